package readapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
)

// PasswordChange is the body of POST /v1/auth/password.
type PasswordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// TOTPSecret is a new second-factor secret, to load into an authenticator
// app; nothing is stored until it is confirmed.
type TOTPSecret struct {
	Secret string `json:"secret"`
	URI    string `json:"otpauth_uri"`
}

// TOTPEnrolment confirms a secret with a code from the authenticator.
type TOTPEnrolment struct {
	Secret string `json:"secret"`
	Code   string `json:"code"`
}

func (h handlers) selfRoutes() []Route {
	self := Access{Authenticated: true}
	return []Route{
		{Method: http.MethodPost, Path: "/v1/auth/password", Summary: "Change the caller's own password",
			Access: self, Request: PasswordChange{}, Status: http.StatusNoContent, Handler: h.changePassword},
		{Method: http.MethodPost, Path: "/v1/auth/totp/secret",
			Summary: "Draw a second-factor secret for the caller (stored only once confirmed)",
			Access:  self, Response: TOTPSecret{}, Handler: h.totpSecret},
		{Method: http.MethodPost, Path: "/v1/auth/totp", Summary: "Confirm and enrol a second factor",
			Access: self, Request: TOTPEnrolment{}, Status: http.StatusNoContent, Handler: h.enrollTOTP},
	}
}

func (h handlers) changePassword(c echo.Context) error {
	var req PasswordChange
	if err := bind(c, &req); err != nil {
		return err
	}
	_, err := h.Accounts.ChangePassword(c.Request().Context(), principal(c), meta(c),
		req.CurrentPassword, req.NewPassword)
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h handlers) totpSecret(c echo.Context) error {
	u, err := h.Accounts.User(c.Request().Context(), principal(c), principal(c).UserID)
	if err != nil {
		return err
	}
	secret, uri, err := auth.NewTOTPSecret(u.Email)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, TOTPSecret{Secret: secret, URI: uri})
}

func (h handlers) enrollTOTP(c echo.Context) error {
	var req TOTPEnrolment
	if err := bind(c, &req); err != nil {
		return err
	}
	if _, err := h.Accounts.EnrollTOTP(c.Request().Context(), principal(c), meta(c), req.Secret, req.Code); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

package readapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/commands"
)

// LoginRequest is the body of POST /v1/auth/login.
type LoginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	TOTP     string `json:"totp,omitempty"`
}

// TokenResponse carries tokens, with OAuth 2 token-response field names.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

// RefreshRequest is the body of POST /v1/auth/refresh.
type RefreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (h handlers) authRoutes() []Route {
	return []Route{
		{Method: http.MethodPost, Path: "/v1/auth/login", Summary: "Log in; returns an access and a refresh token",
			Access: Access{Public: true}, Request: LoginRequest{}, Response: TokenResponse{}, Handler: h.login},
		{Method: http.MethodPost, Path: "/v1/auth/refresh", Summary: "Exchange a refresh token for new tokens",
			Access: Access{Public: true}, Request: RefreshRequest{}, Response: TokenResponse{}, Handler: h.refresh},
		{Method: http.MethodPost, Path: "/v1/auth/logout", Summary: "End the caller's session",
			Access: Access{Authenticated: true}, Status: http.StatusNoContent, Handler: h.logout},
	}
}

// login checks credentials. Every refusal gets the same answer, so that
// the answer does not tell whether an address has an account; the reason
// is in the log.
func (h handlers) login(c echo.Context) error {
	var req LoginRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	var v ValidationError
	if strings.TrimSpace(req.Email) == "" {
		v.Add("email", "is required")
	}
	if req.Password == "" {
		v.Add("password", "is required")
	}
	if err := v.Err(); err != nil {
		return err
	}
	if err := h.limitLogin(c, req.Email); err != nil {
		return err
	}
	tokens, _, err := h.Accounts.Login(c.Request().Context(), meta(c), commands.Credentials{
		Email: req.Email, Password: req.Password, TOTP: req.TOTP,
	})
	if err != nil {
		return err
	}
	return h.tokens(c, tokens)
}

// limitLogin refuses a login past the limits per address typed and per
// client address.
func (h handlers) limitLogin(c echo.Context, email string) error {
	now := h.Now()
	account := "account:" + strings.ToLower(strings.TrimSpace(email))
	if h.LoginByAccount != nil && !h.LoginByAccount.Allow(account, now) {
		return RateLimited(time.Minute)
	}
	if h.LoginByAddress != nil && !h.LoginByAddress.Allow("address:"+c.RealIP(), now) {
		return RateLimited(time.Minute)
	}
	return nil
}

func (h handlers) refresh(c echo.Context) error {
	var req RefreshRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.RefreshToken == "" {
		return ValidationError{Fields: []FieldError{{Field: "refresh_token", Reason: "is required"}}}
	}
	tokens, err := h.Accounts.Refresh(c.Request().Context(), meta(c), req.RefreshToken)
	if err != nil {
		return err
	}
	return h.tokens(c, tokens)
}

func (h handlers) tokens(c echo.Context, t commands.Tokens) error {
	return c.JSON(http.StatusOK, TokenResponse{
		AccessToken:  t.AccessToken,
		TokenType:    "Bearer",
		ExpiresIn:    int64(time.Until(t.ExpiresAt).Round(time.Second) / time.Second),
		RefreshToken: t.RefreshToken,
	})
}

func (h handlers) logout(c echo.Context) error {
	if err := h.Accounts.Logout(c.Request().Context(), meta(c), principal(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

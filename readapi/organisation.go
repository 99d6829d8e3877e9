package readapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
)

// CreateDistrictRequest is the body of POST /v1/districts.
type CreateDistrictRequest struct {
	Name string `json:"name"`
}

// CreateSchoolRequest is the body of POST /v1/schools.
type CreateSchoolRequest struct {
	DistrictID string `json:"district_id"`
	Name       string `json:"name"`
}

// OrganisationResponse is a district or a school.
type OrganisationResponse struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	DistrictID string `json:"district_id,omitempty"`
}

func (h handlers) organisationRoutes() []Route {
	manage, read := Access{Capability: auth.ManageOrganisation}, Access{Capability: auth.ReadOrganisation}
	return []Route{
		{Method: http.MethodPost, Path: "/v1/districts", Summary: "Create a district", Access: manage,
			Request: CreateDistrictRequest{}, Response: Written{}, Status: http.StatusCreated, Handler: h.createDistrict},
		{Method: http.MethodGet, Path: "/v1/districts/:id", Summary: "One district", Access: read,
			Response: OrganisationResponse{}, Handler: h.getDistrict},
		{Method: http.MethodPost, Path: "/v1/schools", Summary: "Create a school in a district", Access: manage,
			Request: CreateSchoolRequest{}, Response: Written{}, Status: http.StatusCreated, Handler: h.createSchool},
		{Method: http.MethodGet, Path: "/v1/schools/:id", Summary: "One school", Access: read,
			Response: OrganisationResponse{}, Handler: h.getSchool},
	}
}

func (h handlers) createDistrict(c echo.Context) error {
	var req CreateDistrictRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	id, res, err := h.Accounts.CreateDistrict(c.Request().Context(), principal(c), meta(c), req.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, Written{ID: id, Position: res.Position})
}

func (h handlers) createSchool(c echo.Context) error {
	var req CreateSchoolRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	id, res, err := h.Accounts.CreateSchool(c.Request().Context(), principal(c), meta(c), req.DistrictID, req.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, Written{ID: id, Position: res.Position})
}

func (h handlers) getDistrict(c echo.Context) error {
	d, err := h.Accounts.District(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, OrganisationResponse{ID: d.ID, Name: d.Name})
}

func (h handlers) getSchool(c echo.Context) error {
	s, err := h.Accounts.School(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, OrganisationResponse{ID: s.ID, Name: s.Name, DistrictID: s.DistrictID})
}

package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
)

type userIn struct {
	Email     string `json:"email"`
	Name      string `json:"name"`
	Verified  *bool  `json:"verified"`
	Superuser bool   `json:"superuser"`
}

// createUser: POST /users, for superusers and holders of manage_users.
func (h *handler) createUser(c *gin.Context) {
	a := actor(c)
	if err := mailflow.CanCreateUser(a); err != nil {
		h.fail(c, err)
		return
	}
	var in userIn
	if !decode(c, &in) {
		return
	}
	email, err := mailflow.NormalizeEmail(in.Email)
	if err != nil {
		h.fail(c, err)
		return
	}
	name, err := mailflow.ValidateName("name", in.Name, 200)
	if err != nil {
		h.fail(c, err)
		return
	}
	if in.Superuser && !a.IsSuperuser {
		h.fail(c, mailflow.Forbidden("only superusers can create superusers"))
		return
	}
	verified := in.Verified == nil || *in.Verified
	var u mailflow.User
	err = h.Store.Tx(c.Request.Context(), func(tx *store.Store) error {
		var err error
		if u, err = tx.CreateUser(c.Request.Context(), store.NewUser{Email: email, Name: name, Verified: verified, Superuser: in.Superuser}); err != nil {
			return err
		}
		return tx.Audit(c.Request.Context(), store.AuditEntry{ActorID: &a.ID, Action: "user.create", TargetType: "user", TargetID: u.Email})
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/users/"+u.Email)
	c.JSON(http.StatusCreated, u)
}

// getUser: GET /users/{email}: oneself, or anyone for user managers.
func (h *handler) getUser(c *gin.Context) {
	u, err := h.Store.UserByEmail(c.Request.Context(), c.Param("email"))
	if err == nil {
		err = mailflow.CanViewUser(actor(c), u)
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

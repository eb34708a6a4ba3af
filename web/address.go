package web

import (
	"errors"
	"net/http"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/emailcode"
	"github.com/mfagate/mfagate/web/internal/site"
)

// Changing one's email address (account.SendAddressCode, ConfirmAddress):
// a page for the new address, then one for the code sent to it. An
// address set by support is confirmed on the same pages, which the person
// is sent to after signing in (afterSignIn).

type addressView struct {
	site.Page
	Rd    string
	Email string // what was typed
	// Unconfirmed is set when support set the address and the person has
	// not confirmed it yet: the page offers to confirm it.
	Unconfirmed bool
}

func newAddressView(st *site.Site, r *http.Request) addressView {
	cur := site.CurrentFrom(r)
	v := addressView{Rd: st.KeepRedirect(r.FormValue("rd")), Unconfirmed: cur.User.EmailUnconfirmed()}
	title := "Change your email address"
	if v.Unconfirmed {
		title = "Confirm your email address"
	}
	v.Page = st.NewPage(r, title)
	return v
}

// afterSignIn is where a fully signed-in person goes: on to rd, unless
// support set them an address they have not confirmed yet, which they are
// asked to confirm first.
func afterSignIn(st *site.Site, cur *account.Current, rd string) string {
	if cur != nil && cur.User.EmailUnconfirmed() {
		return st.WithRd("/account/email", rd)
	}
	return st.SafeRedirect(rd)
}

func handleAddressForm(st *site.Site) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return st.Render(w, r, http.StatusOK, "address", newAddressView(st, r))
	}
}

// handleAddressSend sends a code to the new address (field email).
func handleAddressSend(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := site.ParseForm(w, r); err != nil {
			return err
		}
		v := newAddressView(st, r)
		v.Email = r.PostForm.Get("email")
		_, err := accounts.SendAddressCode(r.Context(), site.CurrentFrom(r), v.Email, st.Actor(r))
		if err == nil {
			http.Redirect(w, r, st.WithRd("/account/email/code", v.Rd), http.StatusSeeOther)
			return nil
		}
		if errors.Is(err, account.ErrReauth) {
			http.Redirect(w, r, st.WithRd("/mfa/challenge", st.WithRd("/account/email", v.Rd)), http.StatusSeeOther)
			return nil
		}
		if errors.Is(err, account.ErrLocked) {
			if done, err := limitReached(st, accounts, w, r, err); done {
				return err
			}
		}
		switch c := mfagate.ErrorCode(err); {
		case c == mfagate.EINVALID, c == mfagate.ECONFLICT, c == mfagate.ETHROTTLED, errors.Is(err, account.ErrAddressNeedsFactor):
		default:
			return err
		}
		v.Errors = []site.FieldError{{Field: "email", Message: mfagate.ErrorMessage(err)}}
		return st.Render(w, r, site.Status(mfagate.ErrorCode(err)), "address", v)
	}
}

type addressCodeView struct {
	site.Page
	Rd      string
	Sent    *account.CodeSent
	Minutes int
	// SendAgain shows the button for a new code next to the error.
	SendAgain bool
}

func newAddressCodeView(st *site.Site, accounts *account.Service, r *http.Request) (addressCodeView, error) {
	v := addressCodeView{Page: st.NewPage(r, "Check your email"), Rd: st.KeepRedirect(r.FormValue("rd")), Minutes: accounts.CodeMinutes()}
	var err error
	v.Sent, err = accounts.PendingCode(r.Context(), site.CurrentFrom(r), mfagate.PurposeAddress)
	return v, err
}

func handleAddressCodePage(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := newAddressCodeView(st, accounts, r)
		if err != nil {
			return err
		}
		if v.Sent == nil {
			http.Redirect(w, r, st.WithRd("/account/email", v.Rd), http.StatusSeeOther)
			return nil
		}
		return st.Render(w, r, http.StatusOK, "address_code", v)
	}
}

// handleAddressConfirm checks the code (field code) and changes the
// address.
func handleAddressConfirm(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := site.ParseForm(w, r); err != nil {
			return err
		}
		err := accounts.ConfirmAddress(r.Context(), site.CurrentFrom(r), r.PostForm.Get("code"), st.Actor(r))
		if err == nil {
			target := "/account?email_changed"
			if rd := st.KeepRedirect(r.PostForm.Get("rd")); rd != "" {
				target = rd
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return nil
		}
		err = waitInline(st, err)
		if done, err := limitReached(st, accounts, w, r, err); done {
			return err
		}
		if c := mfagate.ErrorCode(err); c != mfagate.EINVALID && c != mfagate.ECONFLICT {
			return err
		}
		v, verr := newAddressCodeView(st, accounts, r)
		if verr != nil {
			return verr
		}
		msg := mfagate.ErrorMessage(err)
		if errors.Is(err, emailcode.ErrWrongCode) {
			msg = "That code is not correct. Check the email and try again"
		}
		v.Errors = []site.FieldError{{Field: "code", Message: msg}}
		v.SendAgain = codeDead(err) && v.Sent != nil
		return st.Render(w, r, site.Status(mfagate.ErrorCode(err)), "address_code", v)
	}
}

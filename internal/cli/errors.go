package cli

import (
	"errors"
	"fmt"
	"strings"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	"golang.org/x/oauth2"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
)

// describe turns err into the one message a person reads: an API refusal is
// its code and message and the field violations it carries, one a line; a
// token endpoint refusal is its OAuth error code and description. Anything
// else is err itself.
func describe(err error) error { return describeFor(nil, err) }

// describeFor is describe for an error of cmd: a field of the API request
// that one of cmd's flags sets is named by the flag first
// ("--country (country_code): ...").
func describeFor(cmd *cobra.Command, err error) error {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return errors.New(connectMessage(cmd, ce))
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.ErrorCode == "" {
			return fmt.Errorf("the token endpoint answered %s", re.Response.Status)
		}
		return fmt.Errorf("sign-in refused: %s: %s", re.ErrorCode, re.ErrorDescription)
	}
	return err
}

// connectMessage is "code: message", then "  field: description" for each
// field violation (google.rpc.BadRequest) that does not repeat the message;
// fields that cmd's flags set (cmd may be nil) are named by the flag too.
func connectMessage(cmd *cobra.Command, ce *connect.Error) string {
	var violations []*errdetails.BadRequest_FieldViolation
	for _, d := range ce.Details() {
		if v, err := d.Value(); err == nil {
			if br, ok := v.(*errdetails.BadRequest); ok {
				violations = append(violations, br.GetFieldViolations()...)
			}
		}
	}
	var b strings.Builder
	b.WriteString(ce.Code().String())
	m := ce.Message()
	if m != "" {
		shown := m
		for _, fv := range violations {
			if rest, ok := strings.CutPrefix(m, fv.GetField()+": "); ok {
				if flag := flagFor(cmd, fv.GetField()); flag != "" {
					shown = flag + " (" + fv.GetField() + "): " + rest
				}
				break
			}
		}
		b.WriteString(": " + shown)
	}
	for _, fv := range violations {
		if line := fv.GetField() + ": " + fv.GetDescription(); line != m {
			if flag := flagFor(cmd, fv.GetField()); flag != "" {
				line = flag + " (" + fv.GetField() + "): " + fv.GetDescription()
			}
			b.WriteString("\n  " + line)
		}
	}
	return b.String()
}

// flagOfField names the flag that sets an API request field where the two
// names differ by more than "_" and "-".
var flagOfField = map[string]string{
	"billing_profile_id": "billing-profile",
	"country_code":       "country",
	"datacenter_id":      "datacenter",
	"flavour_id":         "flavour",
	"fqdns":              "fqdn",
	"image_id":           "image",
	"pagination.limit":   "limit",
	"pagination.page":    "page",
	"password":           "password-stdin",
	"ssh_key_ids":        "ssh-key",
}

// flagFor is "--flag" for the flag of cmd that sets the API request field,
// or "" when none does (an argument sets it, or nothing the user gave).
func flagFor(cmd *cobra.Command, field string) string {
	if cmd == nil {
		return ""
	}
	name, ok := flagOfField[field]
	if !ok {
		name = strings.ReplaceAll(field, "_", "-")
	}
	if cmd.Flags().Lookup(name) == nil {
		return ""
	}
	return "--" + name
}

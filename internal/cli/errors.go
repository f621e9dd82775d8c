package cli

import (
	"errors"
	"fmt"
	"strings"

	"connectrpc.com/connect"
	"golang.org/x/oauth2"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
)

// describe turns err into the one message a person reads: an API refusal is
// its code and message and the field violations it carries, one a line; a
// token endpoint refusal is its OAuth error code and description. Anything
// else is err itself.
func describe(err error) error {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return errors.New(connectMessage(ce))
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
// field violation (google.rpc.BadRequest) that does not repeat the message.
func connectMessage(ce *connect.Error) string {
	var b strings.Builder
	b.WriteString(ce.Code().String())
	if m := ce.Message(); m != "" {
		b.WriteString(": " + m)
	}
	for _, d := range ce.Details() {
		v, err := d.Value()
		br, ok := v.(*errdetails.BadRequest)
		if err != nil || !ok {
			continue
		}
		for _, fv := range br.GetFieldViolations() {
			if line := fv.GetField() + ": " + fv.GetDescription(); line != ce.Message() {
				b.WriteString("\n  " + line)
			}
		}
	}
	return b.String()
}

package jsoncodec_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/api/jsoncodec"
)

// TestUnmarshal: what reads strictly and what only has fields the schema
// lacks read as connect-go's codec reads them; an enum name the enum lacks,
// at the top, in a list or in a nested message, by JSON or proto field
// name, is refused with the field's path and the names there are.
func TestUnmarshal(t *testing.T) {
	codec := jsoncodec.Codec{}
	for _, tc := range []struct {
		name string
		json string
		msg  proto.Message
		want proto.Message
		err  string
	}{
		{"known name", `{"id":"n1","powerState":"SERVER_POWER_STATE_OFF"}`, &cloudv1.PowerActionNodeRequest{},
			&cloudv1.PowerActionNodeRequest{Id: "n1", PowerState: cloudv1.ServerPowerState_SERVER_POWER_STATE_OFF}, ""},
		{"number", `{"powerState":7}`, &cloudv1.PowerActionNodeRequest{},
			&cloudv1.PowerActionNodeRequest{PowerState: 7}, ""},
		{"unknown field", `{"id":"n1","fromANewerSchema":{"x":1},"powerState":"SERVER_POWER_STATE_ON"}`, &cloudv1.PowerActionNodeRequest{},
			&cloudv1.PowerActionNodeRequest{Id: "n1", PowerState: cloudv1.ServerPowerState_SERVER_POWER_STATE_ON}, ""},
		{"unknown name", `{"powerState":"FOO"}`, &cloudv1.PowerActionNodeRequest{}, nil,
			`power_state: "FOO" is not one of SERVER_POWER_STATE_ON, SERVER_POWER_STATE_OFF, SERVER_POWER_STATE_RESET`},
		{"unknown name by proto name", `{"billing_period":"BILLING_PERIOD_MONTLY"}`, &cloudv1.CreateNodeRequest{}, nil,
			`billing_period: "BILLING_PERIOD_MONTLY" is not one of`},
		{"unknown name in a list", `{"authenticationTypes":["AUTHENTICATION_TYPE_SSH","KERBEROS"]}`, &cloudv1.CreateProjectImageRequest{}, nil,
			`authentication_types: "KERBEROS" is not one of`},
		{"unknown name in a nested list", `{"nodes":[{"fqdn":"a.example"},{"status":"MELTING"}]}`, &cloudv1.ListNodesResponse{}, nil,
			`nodes.status: "MELTING" is not one of`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := codec.Unmarshal([]byte(tc.json), tc.msg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Unmarshal(%s) = %v, want an error containing %q", tc.json, err, tc.err)
				}
				return
			}
			if err != nil || !proto.Equal(tc.msg, tc.want) {
				t.Fatalf("Unmarshal(%s) = %v, %v; want %v", tc.json, tc.msg, err, tc.want)
			}
		})
	}
}

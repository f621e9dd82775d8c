package interceptor_test

import (
	"context"
	"testing"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	cloudv2 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2/cloudv2connect"
	metadatav1 "github.com/gpcore/gpcore/gen/gpcore/api/metadata/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/metadata/v1/metadatav1connect"
	paymentv1 "github.com/gpcore/gpcore/gen/gpcore/api/payment/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/payment/v1/paymentv1connect"
	"github.com/gpcore/gpcore/internal/testserver"
)

// TestPolicyFromMethodOptions checks each authorization type of the
// gpcore.v1.api option against each kind of caller.
func TestPolicyFromMethodOptions(t *testing.T) {
	s := testserver.Start(t)
	user := s.Register(t).Token
	operator := s.OperatorToken(t)
	ctx := context.Background()
	httpc := testserver.HTTPClient()

	readiness := func(token string) error {
		_, err := cloudv2connect.NewCloudServiceClient(httpc, s.URL, testserver.ClientOptions(token)...).
			ReadinessCheck(ctx, connect.NewRequest(&cloudv2.ReadinessCheckRequest{}))
		return err
	}
	metadata := func(token string) error {
		_, err := metadatav1connect.NewMetadataServiceClient(httpc, s.URL, testserver.ClientOptions(token)...).
			GetMetadata(ctx, connect.NewRequest(&metadatav1.GetMetadataRequest{IpAddress: "198.51.100.10"}))
		return err
	}
	planCodes := func(token string) error {
		_, err := paymentv1connect.NewPaymentServiceClient(httpc, s.URL, testserver.ClientOptions(token)...).
			ListPlanCodes(ctx, connect.NewRequest(&paymentv1.ListPlanCodesRequest{}))
		return err
	}
	// subscribe opens a notification stream: nil once the first heartbeat
	// says it is open, else the stream's error.
	subscribe := func(token string) error {
		ctx, cancel := context.WithCancel(ctx)
		stream, err := cloudv1connect.NewCloudServiceClient(httpc, s.URL, testserver.ClientOptions(token)...).
			SubscribeNotifications(ctx, connect.NewRequest(&cloudv1.SubscribeNotificationsRequest{}))
		if err != nil {
			cancel()
			return err
		}
		if !stream.Receive() {
			err = stream.Err()
		}
		cancel() // the stream never ends on its own
		_ = stream.Close()
		return err
	}

	tests := []struct {
		name  string
		call  func(string) error
		token string
		want  connect.Code // 0: success
	}{
		{"PUBLIC without token", readiness, "", 0},
		{"PUBLIC with a stale token", readiness, "stale.token.value", 0},
		{"CLIENT without token", metadata, "", connect.CodeUnauthenticated},
		{"CLIENT with a user token", metadata, user, connect.CodePermissionDenied},
		{"CLIENT with the operator's user token", metadata, operator, connect.CodePermissionDenied},
		{"required role missing", planCodes, user, connect.CodePermissionDenied},
		{"required role held", planCodes, operator, 0},
		{"USER stream without token", subscribe, "", connect.CodeUnauthenticated},
		{"USER stream with token passes the policy", subscribe, user, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(tt.token)
			if tt.want == 0 {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				return
			}
			if connect.CodeOf(err) != tt.want {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

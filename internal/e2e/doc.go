// Package e2e holds end-to-end tests that run `gpcore serve` as a child
// process and walk the user journey with the public GPCORE SDK's own gRPC
// clients (buf.build/gen/go/gportal/gpcore/...). The SDK registers the same
// proto file paths as gpcore's gen/ packages, so these tests must never import
// gen/ or internal/app: they talk to the server over the wire only.
package e2e

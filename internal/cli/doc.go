// Package cli is gpcore's user command line, `gpcore <noun> <verb>`: login,
// register, whoami and logout; project (with its logs), member and ssh-key;
// the catalog (datacenter, flavour, image); node; billing-profile, payment
// card, bill and usage. cmd/gpcore adds Commands to its root command;
// everything else lives here.
//
// The pieces:
//
//   - Credentials (credentials.go) is the session login keeps in
//     <config dir>/gpcore/credentials.json, mode 0600: the server, its token
//     endpoint (found by OpenID Connect discovery), the OAuth client, the
//     account, and the access and refresh tokens.
//   - session (session.go) hands out a fresh access token to every call:
//     renewed before it expires (refresh_token grant, or a new
//     client_credentials grant for machines), and once more when the server
//     refuses it, each renewal saved to the file.
//   - call (call.go) is one run of a command: the Connect clients (Connect or
//     gRPC, --protocol) of CloudService v1 and v2 and PaymentService, signed
//     in through the session, and the output format (-o table, json or yaml;
//     output.go). The clients call the session's server; --server only
//     checks that it is the one meant, as the session's tokens go to no
//     other. apiCommand turns a cobra command and a run function into an
//     API command (fileCommand, for commands that write a file, leaves -o to
//     them); errors reach the user as the API's code and message with its
//     field violations (errors.go).
//   - lookup.go resolves a name given on the command line to its id: a
//     project, an SSH key, a datacenter by short code, a flavour, an image by
//     alias, a node by FQDN, a billing profile, a card by its last digits, a
//     bill by number. An id passes as it is.
//   - watch.go is --wait: it subscribes to SubscribeNotifications before an
//     operation is asked for, shows each state change of the operation's
//     nodes as a timestamped line, subscribes again (and catches up with
//     GetNode) when the stream ends or misses its heartbeats, and ends when
//     every node has reached the operation's goal or failed. Ctrl-C stops
//     the wait, never the operation.
//   - payment.go adds cards: AddCreditCard starts a setup at the server's
//     payment provider; with the built-in test provider, --token confirms it
//     with a test card token at POST /payment/test/confirm, the test
//     provider's stand-in for Stripe.js.
//
// Adding a noun is a file with its cobra commands built with apiCommand, and
// one more entry in Commands.
package cli

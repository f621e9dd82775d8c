package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	"github.com/gpcore/gpcore/gen/gpcore/api/auth/v1/authv1connect"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2/cloudv2connect"
	"github.com/gpcore/gpcore/gen/gpcore/api/payment/v1/paymentv1connect"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
)

// protocol is the value of --protocol: the RPC protocol the clients speak.
type protocol string

// The RPC protocols.
const (
	protocolConnect protocol = "connect"
	protocolGRPC    protocol = "grpc"
)

// String returns the protocol's name (pflag.Value).
func (p *protocol) String() string { return string(*p) }

// Set accepts connect or grpc (pflag.Value).
func (p *protocol) Set(s string) error {
	switch v := protocol(s); v {
	case protocolConnect, protocolGRPC:
		*p = v
		return nil
	}
	return fmt.Errorf("%q is not a protocol: connect or grpc", s)
}

// Type names the flag's value in help (pflag.Value).
func (*protocol) Type() string { return "protocol" }

// callOptions are the flags every command that calls the API as the
// signed-in account takes.
type callOptions struct {
	output   format
	protocol protocol
	// server is --server: the server the session must be for; empty, the
	// session's, whichever it is.
	server string
}

// addTo declares --protocol and --server on cmd and, with withFormat,
// -o/--output.
func (o *callOptions) addTo(cmd *cobra.Command, withFormat bool) {
	o.output, o.protocol = formatTable, protocolConnect
	if withFormat {
		cmd.Flags().VarP(&o.output, "output", "o", "output format: table, json (the API's answer as Connect JSON) or yaml")
	}
	cmd.Flags().Var(&o.protocol, "protocol", "RPC protocol: connect (HTTP/1.1 or HTTP/2) or grpc (HTTP/2; h2c for http:// servers)")
	cmd.Flags().StringVar(&o.server, "server", "", "base URL of the server the session must be for: another is refused, not called (gpcore login --server chooses the session's server)")
}

// checkServer refuses a --server that is not signedIn, the server of the
// session: its tokens are that server's and are sent to no other, so
// another server needs a session of its own (gpcore login --server).
func (o *callOptions) checkServer(signedIn string) error {
	if o.server == "" {
		return nil
	}
	want, err := serverURL(o.server)
	if err != nil {
		return err
	}
	if want != signedIn {
		return fmt.Errorf("--server (GPCORE_SERVER) is %s, but you are signed in to %s: sign in there with `gpcore login --server %s`, or leave --server out", want, signedIn, want)
	}
	return nil
}

// call is one run of a command: where it reads and writes, in which format,
// and the API clients, signed in through session (nil only for the anonymous
// call of register).
type call struct {
	in          io.Reader
	out, errOut io.Writer
	format      format
	session     *session
	auth        authv1connect.AuthServiceClient
	cloud       cloudv1connect.CloudServiceClient
	cloud2      cloudv2connect.CloudServiceClient
	payment     paymentv1connect.PaymentServiceClient
	// web reaches the server's plain HTTP endpoints (the test payment
	// provider's confirmation) at server, the base URL.
	web    *http.Client
	server string
}

// apiCommand makes cmd call the API as the signed-in account: it declares
// the callOptions flags and sets RunE to load the credentials, build the call
// and run run. The error a command returns is described for people
// (describe).
func apiCommand(cmd *cobra.Command, run func(ctx context.Context, c *call, args []string) error) *cobra.Command {
	return signedIn(cmd, true, run)
}

// fileCommand is apiCommand for a command whose result is a file rather
// than an answer to print: it has no -o/--output format flag, so -o can be
// its own.
func fileCommand(cmd *cobra.Command, run func(ctx context.Context, c *call, args []string) error) *cobra.Command {
	return signedIn(cmd, false, run)
}

// signedIn is apiCommand, with the -o/--output format flag when withFormat.
func signedIn(cmd *cobra.Command, withFormat bool, run func(ctx context.Context, c *call, args []string) error) *cobra.Command {
	var o callOptions
	o.addTo(cmd, withFormat)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		path, err := credentialsPath()
		if err != nil {
			return err
		}
		creds, err := loadCredentials(path)
		if err != nil {
			return err
		}
		if err := o.checkServer(creds.Server); err != nil {
			return err
		}
		web := webClient()
		c := o.dial(cmd, web, creds.Server, &session{path: path, web: web, creds: creds})
		return describeFor(cmd, run(cmd.Context(), c, args))
	}
	return cmd
}

// dial builds the call's clients for server, signed in through sess when it
// is not nil. web serves the Connect protocol; gRPC gets a client of its own
// that speaks only HTTP/2.
func (o *callOptions) dial(cmd *cobra.Command, web *http.Client, server string, sess *session) *call {
	httpc := web
	var opts []connect.ClientOption
	if o.protocol == protocolGRPC {
		httpc = httpClient(true)
		opts = append(opts, connect.WithGRPC())
	}
	if sess != nil {
		opts = append(opts, connect.WithInterceptors(sess.interceptor()))
	}
	return &call{
		in:      cmd.InOrStdin(),
		out:     cmd.OutOrStdout(),
		errOut:  cmd.ErrOrStderr(),
		format:  o.output,
		session: sess,
		auth:    authv1connect.NewAuthServiceClient(httpc, server, opts...),
		cloud:   cloudv1connect.NewCloudServiceClient(httpc, server, opts...),
		cloud2:  cloudv2connect.NewCloudServiceClient(httpc, server, opts...),
		payment: paymentv1connect.NewPaymentServiceClient(httpc, server, opts...),
		web:     web,
		server:  server,
	}
}

// webClient speaks HTTP/1.1, and HTTP/2 where TLS offers it: the Connect
// protocol and the token endpoint.
func webClient() *http.Client { return httpClient(false) }

// httpClient speaks HTTP/2 and, unless onlyHTTP2, HTTP/1.1. gRPC needs
// onlyHTTP2: HTTP/2 over TLS or, for http:// URLs, without it (h2c).
func httpClient(onlyHTTP2 bool) *http.Client {
	var p http.Protocols
	p.SetHTTP2(true)
	if onlyHTTP2 {
		p.SetUnencryptedHTTP2(true)
	} else {
		p.SetHTTP1(true)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Protocols = &p
	return &http.Client{Transport: t}
}

// print writes the answer msg in the call's format; human writes the table
// version.
func (c *call) print(msg proto.Message, human func(io.Writer) error) error {
	return printMessage(c.out, c.format, msg, human)
}

// done writes the answer msg of an action in the call's format; in the table
// format, the sentence format with args instead.
func (c *call) done(msg proto.Message, format string, args ...any) error {
	return c.print(msg, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, format+"\n", args...)
		return err
	})
}

// confirm asks whether to do action ("delete project x") on the error
// output and reads the answer from the standard input; anything but y or yes
// is a refusal. Without an answer (no terminal, a script), the refusal names
// action and --yes, the flag that does it without asking.
func (c *call) confirm(action string) error {
	fmt.Fprintf(c.errOut, "%s%s? [y/N] ", strings.ToUpper(action[:1]), action[1:])
	line, err := bufio.NewReader(c.in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	if err != nil && line == "" {
		return fmt.Errorf("no answer on standard input: give --yes to %s without asking", action)
	}
	return errors.New("not confirmed: nothing was done")
}

// pageFlags are the --page and --limit flags of a list command.
type pageFlags struct{ page, limit int32 }

// addTo declares --page and --limit on cmd.
func (p *pageFlags) addTo(cmd *cobra.Command) {
	cmd.Flags().Int32Var(&p.page, "page", 1, "page to show, from 1")
	cmd.Flags().Int32Var(&p.limit, "limit", 0, "items per page; 0 means the server's default, which is also the most it gives")
}

// request is the API's pagination request for the flags.
func (p *pageFlags) request() *typev1.PaginationRequest {
	r := &typev1.PaginationRequest{Page: p.page}
	if p.limit > 0 {
		r.Limit = &p.limit
	}
	return r
}

// printPage is print for a page of a list: in the table format, it then
// tells on the error output that pages follow the one shown.
func (c *call) printPage(msg interface {
	proto.Message
	GetPagination() *typev1.PaginationResponse
}, human func(io.Writer) error,
) error {
	err := c.print(msg, human)
	if pr := msg.GetPagination(); c.format == formatTable && pr.GetPage() < pr.GetTotal() {
		fmt.Fprintf(c.errOut, "page %d of %d: --page %d shows the next\n", pr.GetPage(), pr.GetTotal(), pr.GetPage()+1)
	}
	return err
}

// listCommand is a noun's `list` (alias ls) command: run lists a page, as
// the --page and --limit flags in pf ask.
func listCommand(short string, pf *pageFlags, run func(ctx context.Context, c *call) error) *cobra.Command {
	cmd := apiCommand(&cobra.Command{Use: "list", Aliases: []string{"ls"}, Short: short, Args: cobra.NoArgs},
		func(ctx context.Context, c *call, _ []string) error { return run(ctx, c) })
	pf.addTo(cmd)
	return cmd
}

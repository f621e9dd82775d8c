package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	cloudv2 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
)

// maxUserDataBytes bounds a --user-data file; the server has its own,
// smaller bound and says so.
const maxUserDataBytes = 1 << 20

func newNodeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "node",
		Aliases: []string{"nodes"},
		Short:   "Nodes: order, watch, operate and destroy bare-metal servers",
		Long: `Nodes are the bare-metal servers of a project. A NODE argument is a node's id
or its FQDN; --project takes a project's id or name and defaults to your
default project.

Operations run in the background; --wait follows them on the notification
stream (SubscribeNotifications), one timestamped line per state change, and
returns when they are done. Ctrl-C stops waiting, never the operation.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newNodeListCommand(), newNodeGetCommand(), newNodeCreateCommand(), newNodePowerCommand(),
		newNodeRescueCommand(), newNodeReinstallCommand(), newNodeDestroyCommand(), newNodeBillingPeriodCommand())
	return cmd
}

func newNodeListCommand() *cobra.Command {
	var (
		project, search string
		pf              pageFlags
	)
	cmd := listCommand("List a project's nodes, by FQDN", &pf, func(ctx context.Context, c *call) error {
		projectID, err := c.projectID(ctx, project)
		if err != nil {
			return err
		}
		req := &cloudv2.ListNodesRequest{Id: projectID, Pagination: pf.request()}
		if search != "" {
			req.Search = &search
		}
		res, err := c.cloud2.ListNodes(ctx, connect.NewRequest(req))
		if err != nil {
			return err
		}
		return c.printPage(res.Msg, func(w io.Writer) error { return nodeTable(w, res.Msg.GetNodes()...) })
	})
	addProjectFlag(cmd, &project)
	cmd.Flags().StringVar(&search, "search", "", "only the nodes whose FQDN, IP address, tag (key=value) or status matches")
	return cmd
}

func newNodeGetCommand() *cobra.Command {
	var project string
	cmd := apiCommand(&cobra.Command{
		Use:   "get NODE",
		Short: "Show a node: state, addresses, login, billing",
		Args:  cobra.ExactArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		_, n, err := c.node(ctx, project, args[0])
		if err != nil {
			return err
		}
		return c.print(&cloudv1.GetNodeResponse{Node: n}, func(w io.Writer) error { return nodeDetails(w, n) })
	})
	addProjectFlag(cmd, &project)
	return cmd
}

// createFlags are the flags of node create.
type createFlags struct {
	project, datacenter, flavour, image string
	fqdns, sshKeys                      []string
	count                               int
	passwordStdin                       bool
	billingPeriod                       string
	userData                            string
	wf                                  waitFlags
}

func newNodeCreateCommand() *cobra.Command {
	var f createFlags
	cmd := apiCommand(&cobra.Command{
		Use:   "create --datacenter DC --flavour FLAVOUR --image IMAGE --fqdn FQDN...",
		Short: "Order nodes, one per FQDN, and with --wait watch them being installed",
		Long: `Order nodes, one per FQDN: --fqdn repeated, or one --fqdn with --count N,
which numbers its first label (--fqdn web.example.net --count 2 orders
web1.example.net and web2.example.net).

You log in as the image's login user (debian on debian-12; the server's login
hint, which node get shows as Login and --wait at the end) with the --ssh-key
keys (yours or other members' of the project, by name or id), with the
password read by --password-stdin, or both. With neither, the server sets a
random password that it never shows.

--wait subscribes to notifications before ordering, shows each state change
(DEPLOYING, DEPLOY_WAIT, ... ACTIVE) as it happens and ends with each node's
IP addresses and how to log in; it exits non-zero when an installation fails
(DEPLOY_FAIL).`,
		Example: `  gpcore node create --datacenter fra1 --flavour BM-S1 --image debian-12 \
    --fqdn web1.example.net --ssh-key laptop --wait
  gpcore node create --datacenter fra1 --flavour BM-S1 --image debian-12 \
    --fqdn web.example.net --count 2 --ssh-key laptop --billing-period monthly`,
		Args: cobra.NoArgs,
	}, func(ctx context.Context, c *call, _ []string) error { return c.createNodes(ctx, f) })
	fl := cmd.Flags()
	addProjectFlag(cmd, &f.project)
	fl.StringVar(&f.datacenter, "datacenter", "", "datacenter id, short code (fra1) or name")
	fl.StringVar(&f.flavour, "flavour", "", "flavour id or name (BM-S1), as gpcore flavour list --datacenter DC shows them")
	fl.StringVar(&f.image, "image", "", "image id, alias (debian-12) or name")
	fl.StringArrayVar(&f.fqdns, "fqdn", nil, "the node's FQDN; repeat for several nodes")
	fl.IntVar(&f.count, "count", 1, "order this many nodes, numbering the first label of the one --fqdn")
	fl.StringArrayVar(&f.sshKeys, "ssh-key", nil, "SSH key (name or id) to log in with as the image's login user; repeat for several")
	fl.BoolVar(&f.passwordStdin, "password-stdin", false, "read the password to log in with from standard input")
	fl.StringVar(&f.billingPeriod, "billing-period", "hourly", "hourly or monthly")
	fl.StringVar(&f.userData, "user-data", "", "file of cloud-init user data to pass to the nodes")
	f.wf.addTo(cmd, "the nodes are ACTIVE")
	return cmd
}

// createNodes orders the nodes f describes and, with --wait, follows them
// until they are installed.
func (c *call) createNodes(ctx context.Context, f createFlags) error {
	fqdns, err := expandFQDNs(f.fqdns, f.count)
	if err != nil {
		return err
	}
	period, err := billingPeriod(f.billingPeriod)
	if err != nil {
		return err
	}
	req := &cloudv1.CreateNodeRequest{Fqdns: fqdns, BillingPeriod: period}
	if req.ProjectId, err = c.projectID(ctx, f.project); err != nil {
		return err
	}
	if req.DatacenterId, err = c.datacenterID(ctx, f.datacenter); err != nil {
		return err
	}
	if f.flavour == "" || f.image == "" {
		return errors.New("--flavour and --image are required: `gpcore flavour list --datacenter DC` and `gpcore image list` show them")
	}
	if req.FlavourId, err = c.flavourID(ctx, req.GetProjectId(), req.GetDatacenterId(), f.datacenter, f.flavour); err != nil {
		return err
	}
	if req.ImageId, err = c.imageID(ctx, f.image); err != nil {
		return err
	}
	if req.SshKeyIds, err = c.sshKeyIDs(ctx, req.GetProjectId(), f.sshKeys); err != nil {
		return err
	}
	if req.Password, err = c.passwordFlag(f.passwordStdin); err != nil {
		return err
	}
	userData, err := readUserData(f.userData)
	if err != nil {
		return err
	}
	if userData != "" {
		req.UserData = &userData
	}
	nodes, waited, err := c.operate(ctx, f.wf, req.GetProjectId(), provisioned, func(ctx context.Context) ([]*cloudv1.Node, bool, error) {
		res, err := c.cloud.CreateNode(ctx, connect.NewRequest(req))
		if err != nil {
			return nil, false, err
		}
		return res.Msg.GetNodes(), true, nil
	})
	if nodes == nil { // nothing ordered, or the wait stopped
		return err
	}
	// When some installations failed (err), the others are shown all the same.
	perr := c.print(&cloudv1.CreateNodeResponse{Nodes: nodes}, func(w io.Writer) error {
		if !waited {
			if err := nodeTable(w, nodes...); err != nil {
				return err
			}
			_, err := fmt.Fprintln(w, "\nThe nodes are being installed: `gpcore node get NODE` shows how far (or order with --wait).")
			return err
		}
		for _, n := range nodes {
			if !provisioned.reached(n) {
				continue
			}
			if err := loginSummary(w, n, req); err != nil {
				return err
			}
		}
		return nil
	})
	return errors.Join(err, perr)
}

// expandFQDNs is the FQDNs of an order: fqdns, or with count > 1 the one
// FQDN given with its first label numbered from 1 to count.
func expandFQDNs(fqdns []string, count int) ([]string, error) {
	switch {
	case len(fqdns) == 0:
		return nil, errors.New("--fqdn is required: the name of each node")
	case count < 1:
		return nil, fmt.Errorf("--count %d: order at least one node", count)
	case count == 1:
		return fqdns, nil
	case len(fqdns) > 1:
		return nil, errors.New("--count numbers one --fqdn: give one, or one --fqdn per node without --count")
	}
	first, rest, _ := strings.Cut(fqdns[0], ".")
	out := make([]string, count)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", first, i+1)
		if rest != "" {
			out[i] += "." + rest
		}
	}
	return out, nil
}

// billingPeriod parses a --billing-period: hourly or monthly.
func billingPeriod(s string) (cloudv1.BillingPeriod, error) {
	switch strings.ToLower(s) {
	case "hourly":
		return cloudv1.BillingPeriod_BILLING_PERIOD_HOURLY, nil
	case "monthly":
		return cloudv1.BillingPeriod_BILLING_PERIOD_MONTHLY, nil
	}
	return 0, fmt.Errorf("billing period %q: hourly or monthly", s)
}

// passwordFlag reads the node's password from standard input when
// --password-stdin is given; nil when it is not.
func (c *call) passwordFlag(fromStdin bool) (*string, error) {
	if !fromStdin {
		return nil, nil
	}
	p, err := stdinSecret(c.in)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// readUserData reads a --user-data file; "" for none.
func readUserData(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("--user-data: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxUserDataBytes+1))
	switch {
	case err != nil:
		return "", fmt.Errorf("--user-data: read %s: %w", path, err)
	case len(b) > maxUserDataBytes:
		return "", fmt.Errorf("--user-data: %s is larger than %d bytes", path, maxUserDataBytes)
	}
	return string(b), nil
}

// loginSummary writes how an installed node is reached: its state, its IP
// addresses and how to log in: as the login hint's user, with what the
// order or reinstall req gave.
func loginSummary(w io.Writer, n *cloudv1.Node, req interface {
	GetSshKeyIds() []string
	GetPassword() string
},
) error {
	fmt.Fprintf(w, "%s is %s.\n", n.GetFqdn(), statusText(n))
	t := newTable(w)
	t.row("  IP addresses:", strings.Join(nodeIPs(n), ", "))
	hint := n.GetLoginHint()
	login := ""
	if hint.GetUsername() != "" {
		login = "ssh " + hint.GetUsername() + "@" + firstIPv4(n)
	}
	var how []string
	if len(req.GetSshKeyIds()) > 0 {
		how = append(how, "your SSH key")
	}
	if req.GetPassword() != "" {
		how = append(how, "the password you gave")
	}
	if len(how) > 0 {
		login += " (with " + strings.Join(how, " or ") + ")"
	} else if hint.GetHasPassword() {
		login += " (with a random password the server set and never shows: reinstall with --ssh-key or --password-stdin to log in)"
	}
	t.row("  Log in:", login)
	return t.flush()
}

func newNodePowerCommand() *cobra.Command {
	var (
		project string
		wf      waitFlags
	)
	cmd := apiCommand(&cobra.Command{
		Use:   "power on|off|reset NODE",
		Short: "Switch a node on or off, or reset it",
		Long: `Switch a node's power on or off, or reset it (off and on again). The change
runs in the background; --wait returns when the node's power is in the new
state or, for a reset, when the reset has ended (the node shows power RESET
until then). A node takes one request at a time.`,
		Args: cobra.ExactArgs(2),
	}, func(ctx context.Context, c *call, args []string) error {
		target, ok := map[string]cloudv1.ServerPowerState{
			"on": cloudv1.ServerPowerState_SERVER_POWER_STATE_ON, "off": cloudv1.ServerPowerState_SERVER_POWER_STATE_OFF,
			"reset": cloudv1.ServerPowerState_SERVER_POWER_STATE_RESET,
		}[strings.ToLower(args[0])]
		if !ok {
			return fmt.Errorf("power %q: on, off or reset", args[0])
		}
		projectID, n, err := c.node(ctx, project, args[1])
		if err != nil {
			return err
		}
		g, isReset := powered(target), target == cloudv1.ServerPowerState_SERVER_POWER_STATE_RESET
		if isReset {
			g = resetEnded
		}
		var answer *cloudv1.PowerActionNodeResponse
		final, waited, err := c.operate(ctx, wf, projectID, g, func(ctx context.Context) ([]*cloudv1.Node, bool, error) {
			res, err := c.cloud.PowerActionNode(ctx, connect.NewRequest(&cloudv1.PowerActionNodeRequest{Id: n.GetId(), ProjectId: projectID, PowerState: target}))
			if err != nil {
				return nil, false, err
			}
			answer = res.Msg
			return []*cloudv1.Node{n}, false, nil
		})
		if err != nil {
			return err
		}
		switch {
		case waited && isReset:
			return c.done(&cloudv1.GetNodeResponse{Node: final[0]}, "The reset of %s has ended: it is %s.", n.GetFqdn(), powerText(final[0]))
		case waited:
			return c.done(&cloudv1.GetNodeResponse{Node: final[0]}, "%s is powered %s.", n.GetFqdn(), args[0])
		}
		return c.done(answer, "Power %s requested for %s: `gpcore node get %s` shows when it is done.", args[0], n.GetFqdn(), n.GetFqdn())
	})
	addProjectFlag(cmd, &project)
	wf.addTo(cmd, "the power is in the new state or the reset has ended")
	return cmd
}

func newNodeRescueCommand() *cobra.Command {
	var (
		project string
		wf      waitFlags
	)
	cmd := apiCommand(&cobra.Command{
		Use:   "rescue on|off NODE",
		Short: "Boot a node's rescue system, or its installed system again",
		Long: `Boot a node's rescue system (on), or its installed system again (off). On
prints the rescue system's random root password: the server shows it only
this once. --wait returns when the node is in RESCUE (on) or ACTIVE (off).`,
		Args: cobra.ExactArgs(2),
	}, func(ctx context.Context, c *call, args []string) error {
		var on bool
		switch strings.ToLower(args[0]) {
		case "on":
			on = true
		case "off":
		default:
			return fmt.Errorf("rescue %q: on or off", args[0])
		}
		projectID, n, err := c.node(ctx, project, args[1])
		if err != nil {
			return err
		}
		g := provisioned
		if on {
			g = rescued
		}
		var answer *cloudv1.ChangeNodeRescueModeResponse
		final, waited, err := c.operate(ctx, wf, projectID, g, func(ctx context.Context) ([]*cloudv1.Node, bool, error) {
			res, err := c.cloud.ChangeNodeRescueMode(ctx, connect.NewRequest(&cloudv1.ChangeNodeRescueModeRequest{
				Id: n.GetId(), ProjectId: projectID, RescueMode: &cloudv1.RescueMode{Enabled: on},
			}))
			if err != nil {
				return nil, false, err
			}
			answer = res.Msg
			return []*cloudv1.Node{n}, false, nil
		})
		if answer == nil {
			return err
		}
		// The password is shown even when the wait failed: it is not shown again.
		perr := c.print(answer, func(w io.Writer) error {
			switch {
			case !on && waited:
				fmt.Fprintf(w, "%s runs its installed system again.\n", n.GetFqdn())
			case !on:
				fmt.Fprintf(w, "%s is booting its installed system again.\n", n.GetFqdn())
			case waited && err == nil:
				fmt.Fprintf(w, "%s runs its rescue system: ssh root@%s\n", n.GetFqdn(), firstIPv4(final[0]))
			default:
				fmt.Fprintf(w, "%s is booting its rescue system.\n", n.GetFqdn())
			}
			if on {
				fmt.Fprintf(w, "Root password of the rescue system (shown only now): %s\n", answer.GetRescueMode().GetPassword())
			}
			return nil
		})
		return errors.Join(err, perr)
	})
	addProjectFlag(cmd, &project)
	wf.addTo(cmd, "the node runs the rescue system (on) or its installed system (off)")
	return cmd
}

func newNodeReinstallCommand() *cobra.Command {
	var (
		project, image, fqdn, userData string
		sshKeys                        []string
		passwordStdin                  bool
		wf                             waitFlags
	)
	cmd := apiCommand(&cobra.Command{
		Use:   "reinstall NODE",
		Short: "Wipe a node and install it anew, with another image or name if you like",
		Long: `Wipe a node's disks and install it anew. --image and --fqdn default to the
node's own. You log in as with node create: as the login user of the image
installed, with the --ssh-key keys, the --password-stdin password, or both
(with neither, a random password). --wait returns when the node is ACTIVE
again.`,
		Args: cobra.ExactArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		projectID, n, err := c.node(ctx, project, args[0])
		if err != nil {
			return err
		}
		req := &cloudv1.ReinstallNodeRequest{Id: n.GetId(), ProjectId: projectID, Fqdn: fqdn}
		if image != "" {
			if req.ImageId, err = c.imageID(ctx, image); err != nil {
				return err
			}
		}
		if req.SshKeyIds, err = c.sshKeyIDs(ctx, projectID, sshKeys); err != nil {
			return err
		}
		if req.Password, err = c.passwordFlag(passwordStdin); err != nil {
			return err
		}
		if req.UserData, err = readUserData(userData); err != nil {
			return err
		}
		final, waited, err := c.operate(ctx, wf, projectID, provisioned, func(ctx context.Context) ([]*cloudv1.Node, bool, error) {
			res, err := c.cloud.ReinstallNode(ctx, connect.NewRequest(req))
			if err != nil {
				return nil, false, err
			}
			return []*cloudv1.Node{res.Msg.GetNode()}, true, nil
		})
		if err != nil {
			return err
		}
		return c.print(&cloudv1.ReinstallNodeResponse{Node: final[0]}, func(w io.Writer) error {
			if waited {
				return loginSummary(w, final[0], req)
			}
			_, err := fmt.Fprintf(w, "%s is being reinstalled: `gpcore node get %s` shows how far (or use --wait).\n", final[0].GetFqdn(), final[0].GetFqdn())
			return err
		})
	})
	addProjectFlag(cmd, &project)
	f := cmd.Flags()
	f.StringVar(&image, "image", "", "image id, alias or name (default: the node's image)")
	f.StringVar(&fqdn, "fqdn", "", "the node's new FQDN (default: its own)")
	f.StringArrayVar(&sshKeys, "ssh-key", nil, "SSH key (name or id) to log in with as the image's login user; repeat for several")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password to log in with from standard input")
	f.StringVar(&userData, "user-data", "", "file of cloud-init user data to pass to the node")
	wf.addTo(cmd, "the node is ACTIVE again")
	return cmd
}

func newNodeDestroyCommand() *cobra.Command {
	var (
		project string
		yes     bool
		wf      waitFlags
	)
	cmd := apiCommand(&cobra.Command{
		Use:     "destroy NODE...",
		Aliases: []string{"delete", "rm"},
		Short:   "Destroy nodes: their disks are wiped and their servers go back to the pool",
		Long: `Destroy nodes: billing stops at once, the disks are wiped and the servers
and IP addresses go back to the pool. Asks for confirmation unless --yes.
--wait returns when the nodes are gone, and exits non-zero when a teardown
fails (ERROR: the node keeps its server, unbilled; destroy it again).`,
		Args: cobra.MinimumNArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		var nodes []*cloudv1.Node
		var projectID string
		for _, ref := range args {
			p, n, err := c.node(ctx, project, ref)
			if err != nil {
				return err
			}
			projectID = p
			nodes = append(nodes, n)
		}
		if !yes {
			if err := c.confirm(fmt.Sprintf("destroy %s, wiping the disks", fqdnList(nodes))); err != nil {
				return err
			}
		}
		_, waited, err := c.operate(ctx, wf, projectID, destroyed, func(ctx context.Context) ([]*cloudv1.Node, bool, error) {
			for i, n := range nodes {
				if _, err := c.cloud.DestroyNode(ctx, connect.NewRequest(&cloudv1.DestroyNodeRequest{Id: n.GetId(), ProjectId: projectID})); err != nil {
					if i > 0 {
						return nil, false, fmt.Errorf("destroy %s (%s being destroyed): %w", n.GetFqdn(), fqdnList(nodes[:i]), describe(err))
					}
					return nil, false, err
				}
			}
			return nodes, false, nil
		})
		if err != nil {
			return err
		}
		if waited {
			return c.done(&cloudv1.DestroyNodeResponse{}, "Destroyed %s.", fqdnList(nodes))
		}
		return c.done(&cloudv1.DestroyNodeResponse{}, "Destroying %s: %s being wiped (--wait waits for it).",
			fqdnList(nodes), plural(len(nodes), "its disks are", "their disks are"))
	})
	addProjectFlag(cmd, &project)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "destroy without asking")
	wf.addTo(cmd, "the nodes are gone")
	return cmd
}

// fqdnList names nodes by FQDN: "a", "a and b", "a, b and c".
func fqdnList(nodes []*cloudv1.Node) string {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.GetFqdn()
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// plural is one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func newNodeBillingPeriodCommand() *cobra.Command {
	var project string
	cmd := apiCommand(&cobra.Command{
		Use:   "billing-period hourly|monthly NODE",
		Short: "Bill a node by the hour or by the month once its current period ends",
		Args:  cobra.ExactArgs(2),
	}, func(ctx context.Context, c *call, args []string) error {
		period, err := billingPeriod(args[0])
		if err != nil {
			return err
		}
		projectID, n, err := c.node(ctx, project, args[1])
		if err != nil {
			return err
		}
		res, err := c.cloud.ChangeNodeBillingPeriod(ctx, connect.NewRequest(&cloudv1.ChangeNodeBillingPeriodRequest{
			Id: n.GetId(), ProjectId: projectID, BillingPeriod: period,
		}))
		if err != nil {
			return err
		}
		n = res.Msg.GetNode()
		if n.TargetBillingPeriod == nil {
			return c.done(res.Msg, "%s is billed %s.", n.GetFqdn(), enumName(n.GetBillingPeriod()))
		}
		return c.done(res.Msg, "%s is billed %s until %s, then %s.", n.GetFqdn(), enumName(n.GetBillingPeriod()),
			when(n.GetPaidUntilAt()), enumName(n.GetTargetBillingPeriod()))
	})
	addProjectFlag(cmd, &project)
	return cmd
}

// operate asks for an operation on nodes of projectID with start, which
// returns the nodes it concerns (show: as its answer shows them after the
// request; else as they were before). With --wait it subscribes to
// notifications first, then waits for g and returns the nodes as they are
// at the end, and waited is true; when some failed, it returns them all
// with the error that names them. Without --wait, it returns start's nodes.
func (c *call) operate(ctx context.Context, wf waitFlags, projectID string, g goal,
	start func(context.Context) (nodes []*cloudv1.Node, show bool, err error),
) (nodes []*cloudv1.Node, waited bool, err error) {
	if !wf.wait {
		nodes, _, err = start(ctx)
		return nodes, false, err
	}
	if wf.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, wf.timeout)
		defer cancel()
	}
	w, err := c.startWatch(ctx, projectID, g)
	if err != nil {
		return nil, false, err
	}
	defer w.stop()
	nodes, show, err := start(ctx)
	if err != nil {
		return nil, false, err
	}
	w.follow(show, nodes...)
	nodes, err = w.wait(ctx)
	return nodes, true, err
}

// node finds the node ref names (an id or an FQDN) in the project
// projectRef names (see projectID) and returns the project's id and the
// node.
func (c *call) node(ctx context.Context, projectRef, ref string) (string, *cloudv1.Node, error) {
	projectID, err := c.projectID(ctx, projectRef)
	if err != nil {
		return "", nil, err
	}
	fqdn := strings.TrimSuffix(ref, ".")
	// The nodes whose FQDN has ref in it: a project may have thousands.
	search := func(ctx context.Context) ([]*cloudv1.Node, error) {
		return allPages(ctx, func(ctx context.Context, p *typev1.PaginationRequest) ([]*cloudv1.Node, *typev1.PaginationResponse, error) {
			res, err := c.cloud2.ListNodes(ctx, connect.NewRequest(&cloudv2.ListNodesRequest{Id: projectID, Pagination: p, Search: &fqdn}))
			if err != nil {
				return nil, nil, err
			}
			return res.Msg.GetNodes(), res.Msg.GetPagination(), nil
		})
	}
	// When none is named ref: the first nodes of the project, to show.
	others := func(ctx context.Context) ([]*cloudv1.Node, error) {
		res, err := c.cloud2.ListNodes(ctx, connect.NewRequest(&cloudv2.ListNodesRequest{
			Id: projectID, Pagination: &typev1.PaginationRequest{Limit: proto.Int32(maxChoices + 1)},
		}))
		if err != nil {
			return nil, err
		}
		return res.Msg.GetNodes(), nil
	}
	id, err := lookup[*cloudv1.Node]{kind: "node", list: search, others: others,
		id: (*cloudv1.Node).GetId, names: []func(*cloudv1.Node) string{(*cloudv1.Node).GetFqdn}}.resolve(ctx, fqdn)
	if err != nil {
		return "", nil, err
	}
	res, err := c.cloud.GetNode(ctx, connect.NewRequest(&cloudv1.GetNodeRequest{Id: id, ProjectId: projectID}))
	if err != nil {
		return "", nil, err
	}
	return projectID, res.Msg.GetNode(), nil
}

// sshKeyIDs returns the ids of the SSH keys refs names (ids or names) for a
// node of projectID: a name is looked up among the caller's own keys first,
// then among the keys of the project's other members.
func (c *call) sshKeyIDs(ctx context.Context, projectID string, refs []string) ([]string, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	own, err := c.allSSHKeys(ctx)
	if err != nil {
		return nil, err
	}
	var members []*typev1.SSHKey
	ids := make([]string, len(refs))
	for i, ref := range refs {
		keys := own
		isOwn := slices.ContainsFunc(own, func(k *typev1.SSHKey) bool { return strings.EqualFold(k.GetName(), ref) })
		if !isOwn && uuid.Validate(ref) != nil {
			if members == nil {
				if members, err = c.projectSSHKeys(ctx, projectID); err != nil {
					return nil, err
				}
			}
			keys = members
		}
		l := lookup[*typev1.SSHKey]{kind: "SSH key", list: func(context.Context) ([]*typev1.SSHKey, error) { return keys, nil },
			id: (*typev1.SSHKey).GetId, names: []func(*typev1.SSHKey) string{(*typev1.SSHKey).GetName}}
		if !isOwn {
			l.scope = "among the keys of the project's members"
		}
		if ids[i], err = l.resolve(ctx, ref); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// projectSSHKeys returns the SSH keys of every member of a project, all
// pages.
func (c *call) projectSSHKeys(ctx context.Context, projectID string) ([]*typev1.SSHKey, error) {
	keys, err := allPages(ctx, func(ctx context.Context, p *typev1.PaginationRequest) ([]*cloudv1.ProjectSSHKey, *typev1.PaginationResponse, error) {
		res, err := c.cloud.ListProjectSSHKeys(ctx, connect.NewRequest(&cloudv1.ListProjectSSHKeysRequest{Id: projectID, Pagination: p}))
		if err != nil {
			return nil, nil, err
		}
		return res.Msg.GetKeys(), res.Msg.GetPagination(), nil
	})
	out := make([]*typev1.SSHKey, len(keys))
	for i, k := range keys {
		out[i] = k.GetSshKey()
	}
	return out, err
}

// nodeTable writes nodes as a table.
func nodeTable(w io.Writer, nodes ...*cloudv1.Node) error {
	t := newTable(w, "ID", "FQDN", "STATUS", "POWER", "FLAVOUR", "IMAGE", "IP ADDRESSES")
	for _, n := range nodes {
		t.row(n.GetId(), n.GetFqdn(), statusText(n), upperName(n.GetPowerState()), n.GetFlavour().GetName(),
			imageName(n.GetImage()), strings.Join(nodeIPs(n), ", "))
	}
	return t.flush()
}

// nodeDetails writes one node as "name: value" lines.
func nodeDetails(w io.Writer, n *cloudv1.Node) error {
	t := newTable(w)
	t.row("ID:", n.GetId())
	t.row("FQDN:", n.GetFqdn())
	t.row("Status:", statusText(n))
	t.row("Power:", upperName(n.GetPowerState()))
	t.row("Datacenter:", n.GetDatacenter().GetShort()+" ("+n.GetDatacenter().GetName()+")")
	t.row("Flavour:", n.GetFlavour().GetName())
	t.row("Image:", imageName(n.GetImage()))
	for _, iface := range n.GetNetworkInterfaces() {
		t.row("Interface:", enumName(iface.GetType())+" "+iface.GetMac()+" "+strings.Join(iface.GetIpAddresses(), ", "))
	}
	login := n.GetLoginHint().GetUsername()
	if n.GetLoginHint().GetHasPassword() {
		login += " (password set)"
	}
	t.row("Login:", login)
	t.row("Console access:", yesNo(n.GetHasConsoleAccess()))
	period := enumName(n.GetBillingPeriod())
	if n.TargetBillingPeriod != nil {
		period += ", then " + enumName(n.GetTargetBillingPeriod())
	}
	t.row("Billing period:", period)
	t.row("Paid until:", when(n.GetPaidUntilAt()))
	tags := make([]string, 0, len(n.GetTags()))
	for k, v := range n.GetTags() {
		tags = append(tags, k+"="+v)
	}
	slices.Sort(tags)
	t.row("Tags:", strings.Join(tags, ", "))
	t.row("Created:", when(n.GetCreatedAt()))
	t.row("Updated:", when(n.GetUpdatedAt()))
	return t.flush()
}

// imageName shows an image by alias, else by name.
func imageName(img *cloudv1.Image) string {
	if img.GetAlias() != "" {
		return img.GetAlias()
	}
	return img.GetName()
}

// nodeIPs lists a node's IP addresses, interface by interface.
func nodeIPs(n *cloudv1.Node) []string {
	var ips []string
	for _, iface := range n.GetNetworkInterfaces() {
		ips = append(ips, iface.GetIpAddresses()...)
	}
	return ips
}

// firstIPv4 is the node's first IPv4 address, else its first address, else
// its FQDN.
func firstIPv4(n *cloudv1.Node) string {
	ips := nodeIPs(n)
	if i := slices.IndexFunc(ips, func(ip string) bool { return !strings.Contains(ip, ":") }); i >= 0 {
		return ips[i]
	}
	if len(ips) > 0 {
		return ips[0]
	}
	return n.GetFqdn()
}

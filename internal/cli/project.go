package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
)

func newProjectCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "project",
		Short: "Projects: list, create, change and delete them, choose the default",
		Long: `Projects hold nodes, members and billing. A PROJECT argument is a project's
id or its name; left out, it is your default project (the first you created,
until ` + "`gpcore project default PROJECT`" + ` changes it).`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newProjectListCommand(), newProjectGetCommand(), newProjectCreateCommand(),
		newProjectUpdateCommand(), newProjectDeleteCommand(), newProjectDefaultCommand(), newProjectSSHKeysCommand(),
		newProjectLogsCommand())
	return cmd
}

func newProjectListCommand() *cobra.Command {
	var pf pageFlags
	cmd := listCommand("List your projects and your pending invites", &pf, func(ctx context.Context, c *call) error {
		res, err := c.cloud.ListProjects(ctx, connect.NewRequest(&cloudv1.ListProjectsRequest{Pagination: pf.request()}))
		if err != nil {
			return err
		}
		return c.printPage(res.Msg, func(w io.Writer) error {
			if err := c.projectTable(w, res.Msg.GetProjects()...); err != nil || len(res.Msg.GetInvites()) == 0 {
				return err
			}
			fmt.Fprintln(w, "\nPending invites (accept with `gpcore member join PROJECT`, decline with `gpcore member reject PROJECT`):")
			t := newTable(w, "PROJECT ID", "NAME", "INVITED")
			for _, inv := range res.Msg.GetInvites() {
				t.row(inv.GetProject().GetId(), inv.GetProject().GetName(), when(inv.GetCreatedAt()))
			}
			return t.flush()
		})
	})
	return cmd
}

func newProjectGetCommand() *cobra.Command {
	return apiCommand(&cobra.Command{
		Use:   "get [PROJECT]",
		Short: "Show a project, its locks and its members",
		Long: `Show a project and its members. The table shows its locks too: why it
cannot order nodes now (GetProjectLocks), or none; -o json and -o yaml print
GetProject's answer, which has no locks.`,
		Args: cobra.MaximumNArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		res, err := c.getProject(ctx, optionalArg(args))
		if err != nil {
			return err
		}
		p := res.GetProject()
		return c.print(res, func(w io.Writer) error {
			locks, err := c.cloud.GetProjectLocks(ctx, connect.NewRequest(&cloudv1.GetProjectLocksRequest{Id: p.GetId()}))
			if err != nil {
				return err
			}
			t := newTable(w)
			t.row("ID:", p.GetId())
			t.row("Name:", p.GetName())
			t.row("Your role:", enumName(c.me(p).GetRole()))
			t.row("Default:", yesNo(c.me(p).GetDefault()))
			t.row("Currency:", enumName(p.GetCurrency()))
			t.row("Billing profile:", p.GetBillingProfile().GetId())
			t.row("Locks:", lockList(locks.Msg.GetLockReasons()))
			t.row("Created:", when(p.GetCreatedAt()))
			if err := t.flush(); err != nil {
				return err
			}
			fmt.Fprintln(w, "\nMembers:")
			return memberTable(w, p.GetMembers())
		})
	})
}

func newProjectCreateCommand() *cobra.Command {
	var billingProfile string
	cmd := apiCommand(&cobra.Command{
		Use:   "create NAME",
		Short: "Create a project; your first becomes your default",
		Args:  cobra.ExactArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		profileID, err := c.billingProfileID(ctx, billingProfile)
		if err != nil {
			return err
		}
		res, err := c.cloud.CreateProject(ctx, connect.NewRequest(&cloudv1.CreateProjectRequest{
			Name: args[0], BillingAddressId: profileID,
		}))
		if err != nil {
			return err
		}
		return c.print(res.Msg, func(w io.Writer) error { return c.projectTable(w, res.Msg.GetProject()) })
	})
	cmd.Flags().StringVar(&billingProfile, "billing-profile", "", "billing profile (id, name or company name) that pays for the project; none: the project cannot order nodes yet")
	return cmd
}

func newProjectUpdateCommand() *cobra.Command {
	var name, billingProfile string
	cmd := apiCommand(&cobra.Command{
		Use:   "update PROJECT",
		Short: "Rename a project or change its billing profile",
		Args:  cobra.ExactArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		if name == "" && billingProfile == "" {
			return errors.New("nothing to change: give --name or --billing-profile")
		}
		id, err := c.projectID(ctx, args[0])
		if err != nil {
			return err
		}
		profileID, err := c.billingProfileID(ctx, billingProfile)
		if err != nil {
			return err
		}
		res, err := c.cloud.UpdateProject(ctx, connect.NewRequest(&cloudv1.UpdateProjectRequest{
			Id: id, Name: name, BillingAddressId: profileID,
		}))
		if err != nil {
			return err
		}
		return c.print(res.Msg, func(w io.Writer) error { return c.projectTable(w, res.Msg.GetProject()) })
	})
	cmd.Flags().StringVar(&name, "name", "", "the project's new name")
	cmd.Flags().StringVar(&billingProfile, "billing-profile", "", "billing profile (id, name or company name) that pays for the project from now on")
	return cmd
}

func newProjectDeleteCommand() *cobra.Command {
	var yes bool
	cmd := apiCommand(&cobra.Command{
		Use:   "delete PROJECT",
		Short: "Delete a project you own (not your default, not one with nodes or unpaid bills)",
		Long: `Delete a project you own, with its memberships, invites and log. Asks for
confirmation unless --yes.`,
		Args: cobra.ExactArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		p, err := c.getProject(ctx, args[0])
		if err != nil {
			return err
		}
		id := p.GetProject().GetId()
		if !yes {
			if err := c.confirm(fmt.Sprintf("delete project %s (%s) with its memberships, invites and log", p.GetProject().GetName(), id)); err != nil {
				return err
			}
		}
		res, err := c.cloud.DeleteProject(ctx, connect.NewRequest(&cloudv1.DeleteProjectRequest{Id: id}))
		if err != nil {
			return err
		}
		return c.done(res.Msg, "Deleted project %s.", args[0])
	})
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}

func newProjectDefaultCommand() *cobra.Command {
	return apiCommand(&cobra.Command{
		Use:   "default [PROJECT]",
		Short: "Make a project your default, or show your default project",
		Long: `With a PROJECT, make it your default project: the one commands use when
they are given none. Without, show your default project.`,
		Args: cobra.MaximumNArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		if len(args) == 0 {
			res, err := c.getProject(ctx, "")
			if err != nil {
				return err
			}
			return c.print(res, func(w io.Writer) error { return c.projectTable(w, res.GetProject()) })
		}
		id, err := c.projectID(ctx, args[0])
		if err != nil {
			return err
		}
		res, err := c.cloud.ChangeDefaultProject(ctx, connect.NewRequest(&cloudv1.ChangeDefaultProjectRequest{Id: id}))
		if err != nil {
			return err
		}
		return c.done(res.Msg, "Your default project is now %s.", args[0])
	})
}

func newProjectSSHKeysCommand() *cobra.Command {
	var pf pageFlags
	cmd := apiCommand(&cobra.Command{
		Use:   "ssh-keys [PROJECT]",
		Short: "List the SSH keys of a project's members",
		Args:  cobra.MaximumNArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		id, err := c.projectID(ctx, optionalArg(args))
		if err != nil {
			return err
		}
		res, err := c.cloud.ListProjectSSHKeys(ctx, connect.NewRequest(&cloudv1.ListProjectSSHKeysRequest{Id: id, Pagination: pf.request()}))
		if err != nil {
			return err
		}
		return c.printPage(res.Msg, func(w io.Writer) error {
			t := newTable(w, "ID", "NAME", "TYPE", "FINGERPRINT", "OWNER")
			for _, k := range res.Msg.GetKeys() {
				key := k.GetSshKey()
				t.row(key.GetId(), key.GetName(), enumName(key.GetType()), key.GetFingerprint(), userName(k.GetUser()))
			}
			return t.flush()
		})
	})
	pf.addTo(cmd)
	return cmd
}

func newProjectLogsCommand() *cobra.Command {
	var (
		search, user string
		pf           pageFlags
	)
	cmd := apiCommand(&cobra.Command{
		Use:   "logs [PROJECT]",
		Short: "Show a project's log: who did what, newest first",
		Args:  cobra.MaximumNArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		res, err := c.getProject(ctx, optionalArg(args))
		if err != nil {
			return err
		}
		p := res.GetProject()
		req := &cloudv1.ListProjectLogsRequest{Id: p.GetId(), Search: search, Pagination: pf.request()}
		if user != "" {
			if req.UserId, err = c.logUserID(ctx, p, user); err != nil {
				return err
			}
		}
		logs, err := c.cloud.ListProjectLogs(ctx, connect.NewRequest(req))
		if err != nil {
			return err
		}
		return c.printPage(logs.Msg, func(w io.Writer) error {
			t := newTable(w, "WHEN", "WHO", "WHAT")
			for _, l := range logs.Msg.GetLogs() {
				t.row(when(l.GetCreatedAt()), userName(l.GetUser()), l.GetMessage())
			}
			return t.flush()
		})
	})
	cmd.Flags().StringVar(&search, "search", "", "only the entries whose message has every word of this")
	cmd.Flags().StringVar(&user, "user", "", "only the entries of this user, a member or anyone in the log (e-mail address, service account name or user id)")
	pf.addTo(cmd)
	return cmd
}

// logUserID returns the id of the user ref names in project p's log: an id
// as it is, or the e-mail address (a service account's username) of a
// member or of anyone the log names, such as a member who has left since.
func (c *call) logUserID(ctx context.Context, p *cloudv1.Project, ref string) (string, error) {
	users := func(ctx context.Context) ([]*cloudv1.BasicUser, error) {
		// Every page of the log lists everyone it names; one entry will do.
		res, err := c.cloud.ListProjectLogs(ctx, connect.NewRequest(&cloudv1.ListProjectLogsRequest{
			Id: p.GetId(), Pagination: &typev1.PaginationRequest{Limit: proto.Int32(1)},
		}))
		if err != nil {
			return nil, err
		}
		var out []*cloudv1.BasicUser
		seen := map[string]bool{}
		for _, u := range append(membersOf(p), res.Msg.GetUsers()...) {
			if !seen[u.GetId()] {
				seen[u.GetId()] = true
				out = append(out, u)
			}
		}
		return out, nil
	}
	return resolve(ctx, ref, "user", users, (*cloudv1.BasicUser).GetId, (*cloudv1.BasicUser).GetEmail, (*cloudv1.BasicUser).GetUsername)
}

// membersOf returns the users of p's members and pending invitees.
func membersOf(p *cloudv1.Project) []*cloudv1.BasicUser {
	out := make([]*cloudv1.BasicUser, len(p.GetMembers()))
	for i, m := range p.GetMembers() {
		out[i] = m.GetUser()
	}
	return out
}

// projectTable writes projects as a table, with the caller's role in each
// and which is their default.
func (c *call) projectTable(w io.Writer, projects ...*cloudv1.Project) error {
	t := newTable(w, "ID", "NAME", "ROLE", "DEFAULT", "MEMBERS", "CREATED")
	for _, p := range projects {
		me := c.me(p)
		t.row(p.GetId(), p.GetName(), enumName(me.GetRole()), yesNo(me.GetDefault()), fmt.Sprint(len(p.GetMembers())), when(p.GetCreatedAt()))
	}
	return t.flush()
}

// lockList shows a project's locks: their reasons and what they mean, or
// none.
func lockList(reasons []cloudv1.ProjectLockReason) string {
	if len(reasons) == 0 {
		return "none"
	}
	names := make([]string, len(reasons))
	for i, r := range reasons {
		names[i] = enumName(r)
	}
	return strings.Join(names, ", ") + " (the project cannot order nodes)"
}

// memberTable writes a project's members and pending invitees.
func memberTable(w io.Writer, members []*cloudv1.ProjectMember) error {
	t := newTable(w, "USER ID", "E-MAIL", "NAME", "ROLE", "STATUS", "SINCE")
	for _, m := range members {
		status := "member"
		if !m.GetConfirmed() {
			status = "invited"
		}
		u := m.GetUser()
		t.row(u.GetId(), u.GetEmail(), u.GetFullName(), enumName(m.GetRole()), status, when(m.GetCreatedAt()))
	}
	return t.flush()
}

// userName shows a user by e-mail address, or by user name when it has none
// (service accounts).
func userName(u *cloudv1.BasicUser) string {
	if u.GetEmail() != "" {
		return u.GetEmail()
	}
	return u.GetUsername()
}

// me is the caller's membership of p; nil when the caller is not in it.
func (c *call) me(p *cloudv1.Project) *cloudv1.ProjectMember {
	for _, m := range p.GetMembers() {
		if m.GetUser().GetId() == c.session.userID() {
			return m
		}
	}
	return nil
}

// projectID returns the id of the project ref names: an id as it is, the
// name of one of the caller's projects, or, when ref is empty, the caller's
// default project.
func (c *call) projectID(ctx context.Context, ref string) (string, error) {
	if ref != "" {
		return resolve(ctx, ref, "project", c.allProjects, (*cloudv1.Project).GetId, (*cloudv1.Project).GetName)
	}
	projects, err := c.allProjects(ctx)
	if err != nil {
		return "", err
	}
	for _, p := range projects {
		if c.me(p).GetDefault() {
			return p.GetId(), nil
		}
	}
	return "", errors.New("you have no default project: create one with `gpcore project create NAME`")
}

// getProject fetches the project ref names (see projectID).
func (c *call) getProject(ctx context.Context, ref string) (*cloudv1.GetProjectResponse, error) {
	id, err := c.projectID(ctx, ref)
	if err != nil {
		return nil, err
	}
	res, err := c.cloud.GetProject(ctx, connect.NewRequest(&cloudv1.GetProjectRequest{Id: id}))
	if err != nil {
		return nil, err
	}
	return res.Msg, nil
}

// allProjects returns every project of the caller, all pages.
func (c *call) allProjects(ctx context.Context) ([]*cloudv1.Project, error) {
	return allPages(ctx, func(ctx context.Context, p *typev1.PaginationRequest) ([]*cloudv1.Project, *typev1.PaginationResponse, error) {
		res, err := c.cloud.ListProjects(ctx, connect.NewRequest(&cloudv1.ListProjectsRequest{Pagination: p}))
		if err != nil {
			return nil, nil, err
		}
		return res.Msg.GetProjects(), res.Msg.GetPagination(), nil
	})
}

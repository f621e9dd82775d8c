package cli

import (
	"context"
	"io"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
)

func newMemberCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "member",
		Short: "Project members: invite people, answer invites, leave, remove",
		Long: `Members share a project. An owner invites people by e-mail address or user
id; they see the invite in ` + "`gpcore project list`" + ` and join or reject it.
Service accounts (OAuth clients) join at once.

--project takes a project's id or name and defaults to your default project.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newMemberListCommand(), newMemberInviteCommand(), newMemberJoinCommand(true),
		newMemberJoinCommand(false), newMemberLeaveCommand(), newMemberRemoveCommand())
	return cmd
}

// addProjectFlag declares --project on cmd.
func addProjectFlag(cmd *cobra.Command, project *string) {
	cmd.Flags().StringVar(project, "project", "", "project id or name (default: your default project)")
}

func newMemberListCommand() *cobra.Command {
	var project string
	cmd := apiCommand(&cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List a project's members and pending invitees",
		Args:    cobra.NoArgs,
	}, func(ctx context.Context, c *call, _ []string) error {
		res, err := c.getProject(ctx, project)
		if err != nil {
			return err
		}
		return c.print(res, func(w io.Writer) error { return memberTable(w, res.GetProject().GetMembers()) })
	})
	addProjectFlag(cmd, &project)
	return cmd
}

func newMemberInviteCommand() *cobra.Command {
	var project string
	cmd := apiCommand(&cobra.Command{
		Use:   "invite EMAIL|USER_ID",
		Short: "Invite someone to a project you own",
		Args:  cobra.ExactArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		id, err := c.projectID(ctx, project)
		if err != nil {
			return err
		}
		res, err := c.cloud.InviteMemberToProject(ctx, connect.NewRequest(&cloudv1.InviteMemberToProjectRequest{Id: id, Identifier: args[0]}))
		if err != nil {
			return err
		}
		return c.print(res.Msg, func(w io.Writer) error {
			return memberTable(w, []*cloudv1.ProjectMember{res.Msg.GetMember()})
		})
	})
	addProjectFlag(cmd, &project)
	return cmd
}

// newMemberJoinCommand is `member join` (accept) or `member reject`.
func newMemberJoinCommand(accept bool) *cobra.Command {
	use, short, said := "join PROJECT", "Accept an invite to a project", "Joined project %s."
	if !accept {
		use, short, said = "reject PROJECT", "Decline an invite to a project", "Declined the invite to project %s."
	}
	return apiCommand(&cobra.Command{
		Use:   use,
		Short: short,
		Long:  short + ". PROJECT is the project's id or name, as `gpcore project list` shows the invite.",
		Args:  cobra.ExactArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		id, err := c.inviteID(ctx, args[0])
		if err != nil {
			return err
		}
		res, err := c.cloud.JoinProject(ctx, connect.NewRequest(&cloudv1.JoinProjectRequest{Id: id, Accept: accept}))
		if err != nil {
			return err
		}
		return c.done(res.Msg, said, args[0])
	})
}

func newMemberLeaveCommand() *cobra.Command {
	return apiCommand(&cobra.Command{
		Use:   "leave PROJECT",
		Short: "Leave a project (not your default, not as its last owner)",
		Args:  cobra.ExactArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		id, err := c.projectID(ctx, args[0])
		if err != nil {
			return err
		}
		res, err := c.cloud.LeaveProject(ctx, connect.NewRequest(&cloudv1.LeaveProjectRequest{Id: id}))
		if err != nil {
			return err
		}
		return c.done(res.Msg, "Left project %s.", args[0])
	})
}

func newMemberRemoveCommand() *cobra.Command {
	var project string
	cmd := apiCommand(&cobra.Command{
		Use:   "remove EMAIL|USER_ID",
		Short: "Remove a member from a project you own, or withdraw an invite",
		Args:  cobra.ExactArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		res, err := c.getProject(ctx, project)
		if err != nil {
			return err
		}
		p := res.GetProject()
		userID, err := memberID(ctx, p, args[0])
		if err != nil {
			return err
		}
		removed, err := c.cloud.RemoveMemberFromProject(ctx, connect.NewRequest(&cloudv1.RemoveMemberFromProjectRequest{Id: p.GetId(), UserId: userID}))
		if err != nil {
			return err
		}
		return c.done(removed.Msg, "Removed %s from project %s.", args[0], p.GetName())
	})
	addProjectFlag(cmd, &project)
	return cmd
}

// memberID returns the user id of the member (or invitee) of p that ref
// names: a user id or an e-mail address.
func memberID(ctx context.Context, p *cloudv1.Project, ref string) (string, error) {
	members := func(context.Context) ([]*cloudv1.ProjectMember, error) { return p.GetMembers(), nil }
	return resolve(ctx, ref, "member", members, func(m *cloudv1.ProjectMember) string { return m.GetUser().GetId() },
		func(m *cloudv1.ProjectMember) string { return m.GetUser().GetEmail() })
}

// inviteID returns the project id of the caller's pending invite ref names:
// an id as it is, or the invite's project name.
func (c *call) inviteID(ctx context.Context, ref string) (string, error) {
	invites := func(ctx context.Context) ([]*cloudv1.ProjectInvite, error) {
		// Every page lists all pending invites.
		res, err := c.cloud.ListProjects(ctx, connect.NewRequest(&cloudv1.ListProjectsRequest{}))
		if err != nil {
			return nil, err
		}
		return res.Msg.GetInvites(), nil
	}
	return resolve(ctx, ref, "pending invite", invites,
		func(i *cloudv1.ProjectInvite) string { return i.GetProject().GetId() },
		func(i *cloudv1.ProjectInvite) string { return i.GetProject().GetName() })
}

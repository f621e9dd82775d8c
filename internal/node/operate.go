package node

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/billing/metering"
	"github.com/gpcore/gpcore/internal/billing/usage"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/provision"
	"github.com/gpcore/gpcore/internal/store"
)

// lockedNode is a live node and its server, both locked for a change.
type lockedNode struct {
	node   nodeRow
	server serverRow
}

// lockNode locks a live node and its server until tx ends. An empty
// projectID takes the node whatever its project; otherwise a node of
// another project is not found.
func lockNode(ctx context.Context, tx bun.Tx, projectID, nodeID string) (*lockedNode, error) {
	return findNode(ctx, tx, projectID, nodeID, true)
}

// findNode reads a live node and its server, locked until the transaction
// db ends when lock is set; fault.NotFound when there is none.
func findNode(ctx context.Context, db bun.IDB, projectID, nodeID string, lock bool) (*lockedNode, error) {
	forUpdate := func(q *bun.SelectQuery) *bun.SelectQuery {
		if lock {
			return store.ForUpdate(q)
		}
		return q
	}
	var n lockedNode
	q := db.NewSelect().Model(&n.node).Where("n.id = ?", nodeID).Where("n.deleted_at IS NULL")
	if projectID != "" {
		q = q.Where("n.project_id = ?", projectID)
	}
	err := forUpdate(q).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNodeNotFound(nodeID)
	}
	if err != nil {
		return nil, fmt.Errorf("read node %s: %w", nodeID, err)
	}
	if err := forUpdate(db.NewSelect().Model(&n.server).Where("s.id = ?", n.node.ServerID)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read server of node %s: %w", nodeID, err)
	}
	return &n, nil
}

// atRest refuses a request while the node is busy with another: one
// operation at a time per node.
func (n *lockedNode) atRest() error {
	switch {
	case n.node.Operation != "":
		return fault.Precondition("node %s is busy (%s under way, now %s); wait until it is done",
			n.node.FQDN, n.node.Operation, n.server.ProvisionState)
	case n.node.PowerTarget != "":
		return fault.Precondition("node %s is busy (power %s under way); wait until it is done", n.node.FQDN, n.node.PowerTarget)
	}
	return nil
}

// change runs fn on a live node of a project userID is a confirmed member
// of, with the node and its server locked; then, in the same transaction,
// writes the project log entry and the server log entries fn returns and
// tells the project's members. It returns the project's currency for the
// answer.
func (s *Service) change(ctx context.Context, userID, projectID, nodeID string,
	fn func(ctx context.Context, tx bun.Tx, n *lockedNode) (string, []logEntry, error),
) (catalog.Currency, error) {
	cur, err := s.memberCurrency(ctx, userID, projectID, errNodeNotFound(nodeID))
	if err != nil {
		return "", err
	}
	err = s.hub.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, err := lockNode(ctx, tx, projectID, nodeID)
		if err != nil {
			return err
		}
		message, entries, err := fn(ctx, tx, n)
		if err != nil {
			return err
		}
		if message != "" {
			if err := s.projects.Log(ctx, tx, projectID, userID, message); err != nil {
				return err
			}
		}
		ids, err := s.writeLogs(ctx, tx, n.server.ID, n.node.ID, entries...)
		if err != nil {
			return err
		}
		return s.publish(ctx, tx, projectID, nodeID, ids...)
	})
	return cur, err
}

// changed answers a change with the node as it is now.
func (s *Service) changed(ctx context.Context, cur catalog.Currency, projectID, nodeID string) (Node, error) {
	nodes, err := s.loadLive(ctx, cur, projectID, nodeID)
	if err != nil {
		return Node{}, err
	}
	if len(nodes) == 0 {
		return Node{}, errNodeNotFound(nodeID)
	}
	return nodes[0], nil
}

// request accepts a provisioning operation on a node at rest: the server
// moves by the requested event (refused when the transition table does not
// allow it from the server's state), the node records the operation, and
// its job is enqueued. A destroyed node takes only another destroy (its
// teardown failed).
func (s *Service) request(ctx context.Context, tx bun.Tx, n *lockedNode, op operation, event provision.Event) error {
	if err := n.atRest(); err != nil {
		return err
	}
	if n.node.destroyed() && op != opDestroy {
		return fault.Precondition("node %s is being destroyed (%s): only destroying it again is possible", n.node.FQDN, n.server.ProvisionState)
	}
	to, err := provision.Transition(n.server.ProvisionState, event)
	if err != nil {
		return fault.Precondition("node %s is %s: %s is not possible now", n.node.FQDN, n.server.ProvisionState, event)
	}
	now := s.now()
	if err := setServerState(ctx, tx, n.server.ID, to, n.server.PowerState, "", now); err != nil {
		return err
	}
	if _, err := tx.NewUpdate().Model((*nodeRow)(nil)).
		Set("operation = ?", op).Set("operation_asked_at = NULL").Set("operation_requested_at = NULL").Set("updated_at = ?", now).
		Where("id = ?", n.node.ID).
		Exec(ctx); err != nil {
		return fmt.Errorf("record %s of node %s: %w", op, n.node.ID, err)
	}
	n.server.ProvisionState, n.node.Operation = to, op
	_, err = s.queue.InsertTx(ctx, tx, jobFor(op, n.node.ID), nil)
	return err
}

// setServerState records a server's provisioning and power state.
func setServerState(ctx context.Context, tx bun.Tx, serverID string, state catalog.ProvisionState, power catalog.PowerState, lastError string, now time.Time) error {
	if _, err := tx.NewUpdate().Model((*serverRow)(nil)).
		Set("provision_state = ?", state).Set("power_state = ?", power).Set("last_error = ?", lastError).
		Set("provision_state_changed_at = CASE WHEN provision_state = ? THEN provision_state_changed_at ELSE ? END", state, now).
		Set("updated_at = ?", now).
		Where("id = ?", serverID).
		Exec(ctx); err != nil {
		return fmt.Errorf("record state of server %s: %w", serverID, err)
	}
	return nil
}

// Update is what UpdateNode changes; zero fields stay.
type Update struct {
	// FQDN is the node's new name; see NormalizeFQDN.
	FQDN string
	// Tags are set on the node, keeping its other tags; a tag with an empty
	// value is removed.
	Tags map[string]string
}

// Update renames a node and sets its tags, and returns it. Refusals are
// fault errors: NotFound as for Get; InvalidArgument naming "fqdn" or
// "tags"; AlreadyExists naming "fqdn" when a live node has the name;
// FailedPrecondition once the node is destroyed. The new name reaches the
// server's own configuration at its next reinstall.
func (s *Service) Update(ctx context.Context, userID, projectID, nodeID string, u Update) (Node, error) {
	var fqdn string
	if u.FQDN != "" {
		var err error
		if fqdn, err = NormalizeFQDN(u.FQDN); err != nil {
			return Node{}, fault.Invalid("fqdn", "%q: %v", u.FQDN, err)
		}
	}
	cur, err := s.change(ctx, userID, projectID, nodeID, func(ctx context.Context, tx bun.Tx, n *lockedNode) (string, []logEntry, error) {
		if n.node.destroyed() {
			return "", nil, fault.Precondition("node %s is being destroyed (%s): it can no longer be renamed or tagged",
				n.node.FQDN, n.server.ProvisionState)
		}
		q := tx.NewUpdate().Model((*nodeRow)(nil)).Where("id = ?", nodeID)
		var message string
		if fqdn != "" && fqdn != n.node.FQDN {
			if err := fqdnsFree(ctx, tx, "fqdn", nodeID, fqdn); err != nil {
				return "", nil, err
			}
			q = q.Set("fqdn = ?", fqdn)
			message = fmt.Sprintf("renamed the node %s to %s", n.node.FQDN, fqdn)
		}
		if len(u.Tags) > 0 {
			tags := map[string]string{}
			if err := json.Unmarshal([]byte(n.node.Tags), &tags); err != nil {
				return "", nil, fmt.Errorf("tags of node %s: %w", nodeID, err)
			}
			merged, err := mergeTags(tags, u.Tags)
			if err != nil {
				return "", nil, err
			}
			raw, search, err := encodeTags(merged)
			if err != nil {
				return "", nil, err
			}
			q = q.Set("tags = ?", raw).Set("tags_search = ?", search)
			if message == "" {
				message = fmt.Sprintf("changed the tags of the node %s", n.node.FQDN)
			} else {
				message += " and changed its tags"
			}
		}
		if message == "" {
			return "", nil, nil
		}
		if _, err := q.Set("updated_at = ?", s.now()).Exec(ctx); err != nil {
			if store.IsUniqueViolation(err) {
				return "", nil, errNameTaken("fqdn", fqdn)
			}
			return "", nil, fmt.Errorf("update node %s: %w", nodeID, err)
		}
		return message, nil, nil
	})
	if err != nil {
		return Node{}, wrap("update", err)
	}
	n, err := s.changed(ctx, cur, projectID, nodeID)
	return n, wrap("update", err)
}

// Power switches a node on or off, or resets it (a hard reboot), in the
// background. It is refused (FailedPrecondition) unless the node is at rest
// in ACTIVE or RESCUE, and when it makes no sense: ON for a node that is on,
// OFF for one that is off, RESET for one that is off. NotFound as for Get;
// InvalidArgument naming "power_state" for an unknown target.
func (s *Service) Power(ctx context.Context, userID, projectID, nodeID string, target catalog.PowerState) error {
	if !target.Valid() {
		return fault.Invalid("power_state", "unknown power state %q", target)
	}
	_, err := s.change(ctx, userID, projectID, nodeID, func(ctx context.Context, tx bun.Tx, n *lockedNode) (string, []logEntry, error) {
		if err := n.atRest(); err != nil {
			return "", nil, err
		}
		state, power := n.server.ProvisionState, n.server.PowerState
		if state != catalog.StateActive && state != catalog.StateRescue {
			return "", nil, fault.Precondition("node %s is %s: power changes only when it is ACTIVE or in RESCUE", n.node.FQDN, state)
		}
		switch {
		case target == catalog.PowerOn && power == catalog.PowerOn:
			return "", nil, fault.Precondition("node %s is on already", n.node.FQDN)
		case target == catalog.PowerOff && power == catalog.PowerOff:
			return "", nil, fault.Precondition("node %s is off already", n.node.FQDN)
		case target == catalog.PowerReset && power == catalog.PowerOff:
			return "", nil, fault.Precondition("node %s is off: switch it on rather than resetting it", n.node.FQDN)
		}
		if _, err := tx.NewUpdate().Model((*nodeRow)(nil)).
			Set("power_target = ?", target).Set("updated_at = ?", s.now()).
			Where("id = ?", nodeID).Exec(ctx); err != nil {
			return "", nil, fmt.Errorf("record power target of node %s: %w", nodeID, err)
		}
		if _, err := s.queue.InsertTx(ctx, tx, powerArgs{NodeID: nodeID}, nil); err != nil {
			return "", nil, err
		}
		return fmt.Sprintf("asked for power %s on the node %s", target, n.node.FQDN),
			[]logEntry{info(SourceInternal, "Power %s requested", target)}, nil
	})
	return wrap("power", err)
}

// Rescue boots a node's rescue system (enable) or its installed system
// again, in the background. Enabling returns the rescue system's root
// password, random, which is given to the rescue system once and not kept.
// Refusals are fault errors: NotFound as for Get; FailedPrecondition while
// the node is busy, once it is destroyed, or when its state does not allow
// it (rescue from ACTIVE, RESCUE or a failed rescue; back from RESCUE or a
// failed rescue).
func (s *Service) Rescue(ctx context.Context, userID, projectID, nodeID string, enable bool) (string, error) {
	var password string
	_, err := s.change(ctx, userID, projectID, nodeID, func(ctx context.Context, tx bun.Tx, n *lockedNode) (string, []logEntry, error) {
		if !enable {
			if err := s.request(ctx, tx, n, opUnrescue, provision.Unrescue); err != nil {
				return "", nil, err
			}
			return fmt.Sprintf("left rescue mode on the node %s", n.node.FQDN),
				[]logEntry{info(SourceInternal, "Booting the installed system again")}, nil
		}
		if err := s.request(ctx, tx, n, opRescue, provision.Rescue); err != nil {
			return "", nil, err
		}
		password = rand.Text()
		if err := s.setSecret(ctx, tx, nodeID, secretRescuePassword, password); err != nil {
			return "", nil, err
		}
		return fmt.Sprintf("enabled rescue mode on the node %s", n.node.FQDN),
			[]logEntry{info(SourceInternal, "Booting the rescue system")}, nil
	})
	if err != nil {
		return "", wrap("rescue", err)
	}
	return password, nil
}

// Reinstall is what ReinstallNode installs; zero fields keep the node's
// image and name, and credentials work as for an order (Order).
type Reinstall struct {
	ImageID   string
	FQDN      string
	SSHKeyIDs []string
	Password  string
	UserData  string
}

// Reinstall wipes a node and installs it anew, in the background, and
// returns it (REBUILD). From then on the node pays the licence of the new
// image, if any, and no longer that of the old one (usage.ChangeLicenceTx). Refusals are fault errors: NotFound as for Get;
// FailedPrecondition while the node is busy, once it is destroyed, or when
// its state allows no rebuild (only ACTIVE, DEPLOY_FAIL and ERROR do); and
// those of Create for the image, the name and the credentials.
func (s *Service) Reinstall(ctx context.Context, userID, projectID, nodeID string, r Reinstall) (Node, error) {
	n, err := s.reinstall(ctx, userID, projectID, nodeID, r)
	return n, wrap("reinstall", err)
}

func (s *Service) reinstall(ctx context.Context, userID, projectID, nodeID string, r Reinstall) (Node, error) {
	current, err := s.Get(ctx, userID, projectID, nodeID)
	if err != nil {
		return Node{}, err
	}
	fqdn := current.FQDN
	if r.FQDN != "" {
		if fqdn, err = NormalizeFQDN(r.FQDN); err != nil {
			return Node{}, fault.Invalid("fqdn", "%q: %v", r.FQDN, err)
		}
	}
	if err := checkPassword(r.Password); err != nil {
		return Node{}, err
	}
	if err := checkUserData(r.UserData); err != nil {
		return Node{}, err
	}
	imageID := r.ImageID
	if imageID == "" {
		imageID = current.Image.ID
	}
	image, err := s.installableImage(ctx, imageID, current.Flavour.Flavour)
	if err != nil {
		return Node{}, err
	}
	creds, err := s.credentials(ctx, projectID, image, r.SSHKeyIDs, r.Password)
	if err != nil {
		return Node{}, err
	}
	if err := fqdnsFree(ctx, s.db.DB, "fqdn", nodeID, fqdn); err != nil {
		return Node{}, err
	}
	keysJSON, err := json.Marshal(creds.keys)
	if err != nil {
		return Node{}, fmt.Errorf("encode keys: %w", err)
	}
	cur, err := s.change(ctx, userID, projectID, nodeID, func(ctx context.Context, tx bun.Tx, n *lockedNode) (string, []logEntry, error) {
		if err := s.request(ctx, tx, n, opRebuild, provision.Rebuild); err != nil {
			return "", nil, err
		}
		// The licence follows the image from now on (internal/billing/usage).
		if err := usage.ChangeLicenceTx(ctx, tx, nodeID, usage.LicenceFor(current.Flavour, image), s.now()); err != nil {
			return "", nil, err
		}
		hasPassword := creds.password != "" || creds.generate
		if _, err := tx.NewUpdate().Model((*nodeRow)(nil)).
			Set("image_id = ?", image.ID).Set("fqdn = ?", fqdn).Set("ssh_keys = ?", string(keysJSON)).
			Set("has_password = ?", hasPassword).Set("user_data = ?", r.UserData).
			Where("id = ?", nodeID).Exec(ctx); err != nil {
			if store.IsUniqueViolation(err) {
				return "", nil, errNameTaken("fqdn", fqdn)
			}
			return "", nil, fmt.Errorf("record reinstall of node %s: %w", nodeID, err)
		}
		if hasPassword {
			if err := s.setSecret(ctx, tx, nodeID, secretRootPassword, creds.rootPassword()); err != nil {
				return "", nil, err
			}
		} else if err := deleteSecret(ctx, tx, nodeID, secretRootPassword); err != nil {
			return "", nil, err
		}
		return fmt.Sprintf("reinstalled the node %s with %s", fqdn, image.Name),
			[]logEntry{info(SourceInternal, "Reinstall requested: installing %s as %s", image.Name, fqdn)}, nil
	})
	if err != nil {
		return Node{}, err
	}
	return s.changed(ctx, cur, projectID, nodeID)
}

// deleteSecret deletes a node's one-time secret of a kind, if there is one.
func deleteSecret(ctx context.Context, tx bun.Tx, nodeID string, kind secretKind) error {
	if _, err := tx.NewDelete().Model((*secretRow)(nil)).
		Where("node_id = ?", nodeID).Where("kind = ?", kind).Exec(ctx); err != nil {
		return fmt.Errorf("delete %s of node %s: %w", kind, nodeID, err)
	}
	return nil
}

// Destroy deletes a node: its usage ends now, and in the background its
// server is torn down and cleaned, its addresses and the server go back to
// the pool, and the node is gone. The node shows DELETING, then CLEANING,
// until then. A teardown that fails leaves the node in ERROR with its server
// and addresses, no longer billed, until it is destroyed again; a cleaning
// that fails deletes the node all the same and keeps the server out of the
// pool for an operator. Refusals are fault errors: NotFound as for Get;
// FailedPrecondition while the node is busy (wait for the operation to end)
// or in a state the transition table allows no deletion from.
func (s *Service) Destroy(ctx context.Context, userID, projectID, nodeID string) error {
	_, err := s.change(ctx, userID, projectID, nodeID, func(ctx context.Context, tx bun.Tx, n *lockedNode) (string, []logEntry, error) {
		if err := s.request(ctx, tx, n, opDestroy, provision.Delete); err != nil {
			return "", nil, err
		}
		// Destroying again (the teardown failed) keeps the first end; a
		// pending change of billing period never takes effect (EndTx drops
		// it).
		end := s.now()
		if _, err := tx.NewUpdate().Model((*nodeRow)(nil)).
			Set("usage_ended_at = COALESCE(usage_ended_at, ?)", end).Set("target_billing_period = NULL").
			Where("id = ?", nodeID).Exec(ctx); err != nil {
			return "", nil, fmt.Errorf("end usage of node %s: %w", nodeID, err)
		}
		if err := usage.EndTx(ctx, tx, nodeID, end); err != nil {
			return "", nil, err
		}
		return fmt.Sprintf("destroyed the node %s", n.node.FQDN),
			[]logEntry{info(SourceInternal, "Node %s destroyed: tearing down and cleaning the server", n.node.FQDN)}, nil
	})
	return wrap("destroy", err)
}

// ChangeBillingPeriod asks for a node to be billed by period from the end
// of its current period on, and returns it with the pending change in
// TargetBillingPeriod. Asking for the period the node is billed by cancels
// a pending change. Refusals are fault errors: NotFound as for Get;
// InvalidArgument naming "billing_period"; FailedPrecondition when there is
// nothing to change, and once the node is destroyed (its billing has ended,
// while its server is torn down).
func (s *Service) ChangeBillingPeriod(ctx context.Context, userID, projectID, nodeID string, period BillingPeriod) (Node, error) {
	if !period.Valid() {
		return Node{}, fault.Invalid("billing_period", "unknown billing period %q", period)
	}
	cur, err := s.change(ctx, userID, projectID, nodeID, func(ctx context.Context, tx bun.Tx, n *lockedNode) (string, []logEntry, error) {
		if n.node.destroyed() {
			return "", nil, fault.Precondition("node %s is being destroyed: its billing ended at %s, so its billing period cannot change",
				n.node.FQDN, n.node.UsageEndedAt.UTC().Format(time.RFC3339))
		}
		// How the node is billed now is metering's (a pending change may
		// have taken effect since the row was written).
		now := s.now()
		st, err := usage.CurrentTx(ctx, tx, nodeID, now)
		if err != nil {
			return "", nil, err
		}
		current, pending := BillingPeriod(st.Period), BillingPeriod(st.Target)
		q := tx.NewUpdate().Model((*nodeRow)(nil)).Set("updated_at = ?", s.now()).Where("id = ?", nodeID)
		var message string
		switch {
		case period == current && pending == "":
			return "", nil, fault.Precondition("node %s is billed %s already", n.node.FQDN, period)
		case period == pending:
			return "", nil, fault.Precondition("node %s changes to %s billing already", n.node.FQDN, period)
		case period == current:
			q = q.Set("target_billing_period = NULL")
			message = fmt.Sprintf("cancelled the change of the node %s to %s billing", n.node.FQDN, pending)
		default:
			q = q.Set("target_billing_period = ?", period)
			message = fmt.Sprintf("changed the node %s to %s billing from %s", n.node.FQDN, period,
				st.PaidUntil.UTC().Format(time.RFC3339))
		}
		if st, err = usage.ChangePeriodTx(ctx, tx, nodeID, metering.Period(period), now); err != nil {
			return "", nil, err
		}
		q = q.Set("billing_period = ?", st.Period).Set("paid_until_at = ?", st.PaidUntil)
		if _, err := q.Exec(ctx); err != nil {
			return "", nil, fmt.Errorf("record billing period of node %s: %w", nodeID, err)
		}
		return message, nil, nil
	})
	if err != nil {
		return Node{}, wrap("change billing period", err)
	}
	n, err := s.changed(ctx, cur, projectID, nodeID)
	return n, wrap("change billing period", err)
}

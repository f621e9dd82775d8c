// Package keyring keeps the SSH public keys users register for their nodes:
// each user's ring of keys, the keys of a project's members, and the check a
// node order makes on the keys it names. It owns the table of migration
// 00006_ssh_keys.sql; internal/sshkey parses and checks every key before it
// is stored, and internal/project answers who belongs to a project.
//
// # Rules
//
//   - A key has a name, trimmed and 1 to MaxNameLength characters long,
//     without control characters. Names need not be unique.
//   - A key line is stored only as sshkey.Parse accepts it (see that package
//     for what is refused and why), in its normal form, with its type,
//     SHA256 fingerprint and comment.
//   - A user holds a key once: the same key again, whatever its comment or
//     name, is fault.AlreadyExists. Different users may hold the same key.
//   - Users see and delete only their own keys; anyone else's key is
//     fault.NotFound, exactly as a key that does not exist.
//   - A project's keys are the keys of its confirmed members, pending
//     invitees excluded, and only those members may list them (others get
//     the project's fault.NotFound).
package keyring

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/pagination"
	"github.com/gpcore/gpcore/internal/project"
	"github.com/gpcore/gpcore/internal/sshkey"
	"github.com/gpcore/gpcore/internal/store"
)

// MaxNameLength bounds a key's name, in characters; the database checks it
// too.
const MaxNameLength = 64

// PageLimit is the default (and largest) page of List and ListProject.
const PageLimit = 100

// KeyIDsField is the request field KeysForProject's refusals name: the key
// ids of a node order.
const KeyIDsField = "ssh_key_ids"

// Key is a stored SSH public key.
type Key struct {
	ID string
	// UserID is the key's owner.
	UserID string
	Name   string
	Type   sshkey.Type
	// Fingerprint is the SHA256 fingerprint as `ssh-keygen -lf` prints it.
	Fingerprint string
	// PublicKey is the key line in normal form, ready for an authorized_keys
	// file: "algorithm base64" and, when there is one, " comment".
	PublicKey string
	// Comment is the key line's comment, spaces included; it may be empty.
	Comment   string
	CreatedAt time.Time
}

// ProjectKey is a key of a project member, with the member.
type ProjectKey struct {
	Key   Key
	Owner project.User
}

// Service stores users' SSH keys. It is safe for concurrent use.
type Service struct {
	db       *store.DB
	projects *project.Service
}

// New returns a Service on db, which must be migrated; projects answers
// project membership.
func New(db *store.DB, projects *project.Service) *Service {
	return &Service{db: db, projects: projects}
}

// keyRow is an ssh_keys row.
type keyRow struct {
	bun.BaseModel `bun:"table:ssh_keys,alias:k"`

	ID          string    `bun:"id,pk"`
	UserID      string    `bun:"user_id"`
	Name        string    `bun:"name"`
	Type        string    `bun:"type"`
	Fingerprint string    `bun:"fingerprint"`
	PublicKey   string    `bun:"public_key"`
	Comment     string    `bun:"comment"`
	CreatedAt   time.Time `bun:"created_at"`
}

func (r keyRow) key() Key {
	return Key{
		ID:          r.ID,
		UserID:      r.UserID,
		Name:        r.Name,
		Type:        sshkey.Type(r.Type),
		Fingerprint: r.Fingerprint,
		PublicKey:   r.PublicKey,
		Comment:     r.Comment,
		CreatedAt:   r.CreatedAt.UTC(),
	}
}

// Create stores the public key line publicKey for userID under name and
// returns it. Refusals are fault errors: InvalidArgument naming "name" or
// "public_key" (sshkey.Field); AlreadyExists naming "public_key" when the
// user holds the key already.
func (s *Service) Create(ctx context.Context, userID, name, publicKey string) (Key, error) {
	name, err := checkName(name)
	if err != nil {
		return Key{}, err
	}
	parsed, err := sshkey.Parse(publicKey)
	if err != nil {
		return Key{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Key{}, fmt.Errorf("keyring: key id: %w", err)
	}
	row := keyRow{
		ID:          id.String(),
		UserID:      userID,
		Name:        name,
		Type:        string(parsed.Type),
		Fingerprint: parsed.Fingerprint,
		PublicKey:   parsed.AuthorizedKey,
		Comment:     parsed.Comment,
		CreatedAt:   time.Now().UTC().Truncate(time.Microsecond),
	}
	_, err = s.db.NewInsert().Model(&row).Exec(ctx)
	if store.IsUniqueViolation(err) {
		return Key{}, s.duplicate(ctx, userID, parsed.Fingerprint)
	}
	if err != nil {
		return Key{}, fmt.Errorf("keyring: insert key of user %s: %w", userID, err)
	}
	return row.key(), nil
}

// duplicate is the refusal of a key userID holds already, naming the key it
// is stored as.
func (s *Service) duplicate(ctx context.Context, userID, fingerprint string) error {
	var name string
	if err := s.db.NewSelect().Model((*keyRow)(nil)).Column("name").
		Where("user_id = ?", userID).Where("fingerprint = ?", fingerprint).
		Scan(ctx, &name); err != nil {
		return fmt.Errorf("keyring: read duplicate key of user %s: %w", userID, err)
	}
	return &fault.Error{Kind: fault.KindAlreadyExists, Field: sshkey.Field,
		Message: fmt.Sprintf("you have this key (%s) already, named %q", fingerprint, name)}
}

// checkName returns the trimmed name or a fault naming the field "name".
func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case name == "":
		return "", fault.Invalid("name", "is required")
	case !utf8.ValidString(name):
		return "", fault.Invalid("name", "is not valid UTF-8")
	case n > MaxNameLength:
		return "", fault.Invalid("name", "must be at most %d characters long, got %d", MaxNameLength, n)
	case strings.ContainsFunc(name, unicode.IsControl):
		return "", fault.Invalid("name", "must not contain control characters")
	}
	return name, nil
}

// List returns page of userID's keys, oldest first, and their number.
func (s *Service) List(ctx context.Context, userID string, page pagination.Page) ([]Key, int64, error) {
	keys, total, err := s.list(ctx, page, "user_id = ?", userID)
	if err != nil {
		return nil, 0, fmt.Errorf("keyring: list keys of user %s: %w", userID, err)
	}
	return keys, total, nil
}

// Delete deletes userID's key keyID. A key that is not the user's is
// fault.NotFound, exactly as one that does not exist.
func (s *Service) Delete(ctx context.Context, userID, keyID string) error {
	res, err := s.db.NewDelete().Model((*keyRow)(nil)).
		Where("id = ?", keyID).Where("user_id = ?", userID).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("keyring: delete key %s: %w", keyID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("keyring: delete key %s: %w", keyID, err)
	}
	if n == 0 {
		return fault.NotFound("SSH key", keyID)
	}
	return nil
}

// ListProject returns page of the keys of the confirmed members of a project
// userID is a confirmed member of, oldest first, with their owners, and their
// number. Anyone else gets the project's fault.NotFound.
func (s *Service) ListProject(ctx context.Context, userID, projectID string, page pagination.Page) ([]ProjectKey, int64, error) {
	p, err := s.projects.Get(ctx, userID, projectID)
	if err != nil {
		return nil, 0, err
	}
	owners := make(map[string]project.User, len(p.Members))
	ids := make([]string, 0, len(p.Members))
	for _, m := range p.Members {
		if m.Confirmed {
			owners[m.User.ID] = m.User
			ids = append(ids, m.User.ID)
		}
	}
	keys, total, err := s.list(ctx, page, "user_id IN (?)", bun.In(ids))
	if err != nil {
		return nil, 0, fmt.Errorf("keyring: list keys of project %s: %w", projectID, err)
	}
	out := make([]ProjectKey, len(keys))
	for i, k := range keys {
		out[i] = ProjectKey{Key: k, Owner: owners[k.UserID]}
	}
	return out, total, nil
}

// list returns page of the keys matching where, oldest first, and their
// number.
func (s *Service) list(ctx context.Context, page pagination.Page, where string, args ...any) ([]Key, int64, error) {
	var rows []keyRow
	total, err := s.db.NewSelect().Model(&rows).
		Where(where, args...).
		OrderExpr("created_at, id").
		Limit(int64(page.Limit)).Offset(page.Offset()).
		ScanAndCount(ctx)
	if err != nil {
		return nil, 0, err
	}
	keys := make([]Key, len(rows))
	for i, r := range rows {
		keys[i] = r.key()
	}
	return keys, total, nil
}

// KeysForProject returns the keys keyIDs names, in that order and each once,
// when every one of them belongs to a confirmed member of the project; the
// node domain calls it for the keys of a node order, after checking that the
// caller is a member. Otherwise it returns a fault.Invalid naming
// KeyIDsField that says which id is not acceptable, the same for a key that
// does not exist and one of a non-member, so the answer reveals nothing of
// other users' keys.
func (s *Service) KeysForProject(ctx context.Context, projectID string, keyIDs []string) ([]Key, error) {
	if len(keyIDs) == 0 {
		return nil, nil
	}
	var rows []keyRow
	if err := s.db.NewSelect().Model(&rows).Where("id IN (?)", bun.In(keyIDs)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("keyring: read keys for project %s: %w", projectID, err)
	}
	byID := make(map[string]keyRow, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	isMember := map[string]bool{}
	seen := map[string]bool{}
	var out []Key
	for _, id := range keyIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		r, ok := byID[id]
		if ok {
			member, known := isMember[r.UserID]
			if !known {
				var err error
				if member, err = s.projects.IsMember(ctx, projectID, r.UserID); err != nil {
					return nil, fmt.Errorf("keyring: %w", err)
				}
				isMember[r.UserID] = member
			}
			ok = member
		}
		if !ok {
			return nil, fault.Invalid(KeyIDsField, "%q is not the id of an SSH key of a member of the project", id)
		}
		out = append(out, r.key())
	}
	return out, nil
}

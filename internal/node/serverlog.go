package node

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/fault"
)

// LogLevel is how serious a server log entry is.
type LogLevel string

// The levels, as stored.
const (
	LevelInfo    LogLevel = "INFO"
	LevelWarning LogLevel = "WARNING"
	LevelError   LogLevel = "ERROR"
)

// LogSource is who wrote a server log entry.
type LogSource string

// The sources, as stored. Nodes write INTERNAL entries (gpcore's own
// decisions) and IRONIC ones (what the provisioning driver reported).
const (
	SourceInternal LogSource = "INTERNAL"
	SourceMetadata LogSource = "METADATA"
	SourceIronic   LogSource = "IRONIC"
	SourceNetbox   LogSource = "NETBOX"
)

// ServerLog is one entry of what happened to a server.
type ServerLog struct {
	ID string
	// ServerID and ServerName name the server; DatacenterID its datacenter.
	ServerID     string
	ServerName   string
	DatacenterID string
	// NodeID is the node the server ran when it happened.
	NodeID    string
	Level     LogLevel
	Source    LogSource
	Message   string
	CreatedAt time.Time
}

// logEntry is a server log entry to write.
type logEntry struct {
	level   LogLevel
	source  LogSource
	message string
}

func info(source LogSource, format string, args ...any) logEntry {
	return logEntry{LevelInfo, source, fmt.Sprintf(format, args...)}
}

func warning(source LogSource, format string, args ...any) logEntry {
	return logEntry{LevelWarning, source, fmt.Sprintf(format, args...)}
}

func failure(source LogSource, format string, args ...any) logEntry {
	return logEntry{LevelError, source, fmt.Sprintf(format, args...)}
}

// writeLogs writes entries about a node's server, in order, and returns
// their ids for the notifications.
func (c *core) writeLogs(ctx context.Context, db bun.IDB, serverID, nodeID string, entries ...logEntry) ([]string, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	now := c.now()
	rows := make([]serverLogRow, len(entries))
	ids := make([]string, len(entries))
	for i, e := range entries {
		id, err := uuid.NewV7()
		if err != nil {
			return nil, fmt.Errorf("server log id: %w", err)
		}
		ids[i] = id.String()
		// Entries written together keep their order in created_at too.
		rows[i] = serverLogRow{ID: ids[i], ServerID: serverID, NodeID: nodeID, Level: e.level,
			Source: e.source, Message: e.message, CreatedAt: now.Add(time.Duration(i) * time.Microsecond)}
	}
	if _, err := db.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return nil, fmt.Errorf("write server logs of %s: %w", serverID, err)
	}
	return ids, nil
}

// LogChange is a new server log entry as change notifications show it,
// with who may see it.
type LogChange struct {
	Log ServerLog
	Viewers
}

// ServerLogChanged reads a server log entry for a change notification, once
// for everyone who may see it (LogChange.VisibleTo says who: the members of
// the node's project; entries of deleted nodes stay theirs). It checks no
// caller; an entry that does not exist is fault.NotFound.
func (s *Service) ServerLogChanged(ctx context.Context, logID string) (LogChange, error) {
	var row struct {
		serverLogRow `bun:",extend"`
		ServerName   string `bun:"server_name"`
		DatacenterID string `bun:"datacenter_id"`
		ProjectID    string `bun:"project_id"`
	}
	err := s.db.NewSelect().Model(&row).
		ColumnExpr("l.*").
		ColumnExpr("s.name AS server_name, s.datacenter_id, n.project_id").
		Join("JOIN servers AS s ON s.id = l.server_id").
		Join("JOIN nodes AS n ON n.id = l.node_id").
		Where("l.id = ?", logID).
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return LogChange{}, fault.NotFound("server log", logID)
	}
	if err != nil {
		return LogChange{}, wrap("server log", err)
	}
	v, err := s.viewers(ctx, row.ProjectID)
	if err != nil {
		return LogChange{}, wrap("server log", err)
	}
	return LogChange{Log: ServerLog{
		ID:           row.ID,
		ServerID:     row.ServerID,
		ServerName:   row.ServerName,
		DatacenterID: row.DatacenterID,
		NodeID:       row.NodeID,
		Level:        row.Level,
		Source:       row.Source,
		Message:      row.Message,
		CreatedAt:    row.CreatedAt.UTC(),
	}, Viewers: v}, nil
}

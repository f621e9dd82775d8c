package node

import (
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// Row locks beyond store.ForUpdate, for rows that other transactions
// reference by foreign key (users, projects). On SQLite they are no-ops:
// every transaction holds the database's write lock from BEGIN.
//
// The locking order is project, then user, then nodes and servers, the
// order internal/project follows (project, then users), so that no two
// transactions wait for each other in a circle on PostgreSQL.

// lockForNoKeyUpdate makes q lock the rows it reads against other lockers
// but not against foreign-key checks (FOR NO KEY UPDATE), as project does
// for users.
func lockForNoKeyUpdate(q *bun.SelectQuery) *bun.SelectQuery {
	if q.Dialect().Name() == dialect.PG {
		return q.For("NO KEY UPDATE")
	}
	return q
}

// lockForKeyShare makes q hold the rows it reads until the transaction ends
// against deletion and key changes (FOR KEY SHARE), as an insert referencing
// them would, but before anything else is locked.
func lockForKeyShare(q *bun.SelectQuery) *bun.SelectQuery {
	if q.Dialect().Name() == dialect.PG {
		return q.For("KEY SHARE")
	}
	return q
}

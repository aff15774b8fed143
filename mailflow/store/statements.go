package store

import (
	"context"
	"fmt"
)

// Statement is one normalised statement's cost as pg_stat_statements
// counted it, for a benchmark's profile of the database.
type Statement struct {
	Query   string
	Calls   int64
	Rows    int64
	TotalMS float64 // time executing, over every call
}

// ResetStatements creates pg_stat_statements when the server has it
// loaded and empties its counts, so that what follows is measured alone.
func (s *Store) ResetStatements(ctx context.Context) error {
	if _, err := s.db.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		return fmt.Errorf("pg_stat_statements (is it in shared_preload_libraries?): %w", err)
	}
	if _, err := s.db.Exec(ctx, `SELECT pg_stat_statements_reset()`); err != nil {
		return fmt.Errorf("resetting pg_stat_statements: %w", err)
	}
	return nil
}

// TopStatements lists the n statements that took most time since
// ResetStatements, costliest first.
func (s *Store) TopStatements(ctx context.Context, n int) ([]Statement, error) {
	rows, err := s.db.Query(ctx, `SELECT query, calls, rows, total_exec_time FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		ORDER BY total_exec_time DESC LIMIT $1`, n)
	if err != nil {
		return nil, fmt.Errorf("reading pg_stat_statements: %w", err)
	}
	defer rows.Close()
	var out []Statement
	for rows.Next() {
		var st Statement
		if err := rows.Scan(&st.Query, &st.Calls, &st.Rows, &st.TotalMS); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

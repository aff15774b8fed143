package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// NoteLogin records a sign-in for the user report.
func (s *Store) NoteLogin(ctx context.Context, userID int64) error {
	_, err := s.db.Exec(ctx, `UPDATE users SET last_login_at = now(), visits = visits + 1 WHERE id = $1`, userID)
	return mapErr(err, "note login")
}

// UserReportRow is one line of the user report.
type UserReportRow struct {
	ID        int64
	Name      string // "Ann L.": first name and last initial
	Email     string
	Joined    time.Time
	LastLogin *time.Time
	Groups    int
	Messages  int
	Flags     int
	Visits    int
	Status    string // active, banned, deactivated, unsubscribed, bouncing
}

// ReportQuery chooses and orders report rows.
type ReportQuery struct {
	Search string // name or address contains
	Sort   string // a column key of the report; unknown keys sort by name
	Desc   bool
	Limit  int // 0: all (the CSV export)
	Offset int
}

// clauses turns the query's sort, direction and limit into SQL, from a
// fixed list of columns (never from the request's text).
func (q ReportQuery) clauses(sorts map[string]string) (order, dir, limit string) {
	order = sorts[q.Sort]
	if order == "" {
		order = sorts["name"]
	}
	dir, limit = "ASC", "ALL"
	if q.Desc {
		dir = "DESC"
	}
	if q.Limit > 0 {
		limit = fmt.Sprint(q.Limit)
	}
	return order, dir, limit
}

var userReportSorts = map[string]string{
	"name": "lower(u.name)", "email": "lower(u.email)", "joined": "u.created_at", "last_login": "u.last_login_at",
	"groups": "groups", "messages": "messages", "flags": "flags", "visits": "u.visits", "status": "status",
}

// EachUserReportRow calls fn for each row of the user report, reading
// rows as they come: the CSV export of 100,000 users never holds them
// all in memory.
func (s *Store) EachUserReportRow(ctx context.Context, q ReportQuery, fn func(UserReportRow) error) error {
	order, dir, limit := q.clauses(userReportSorts)
	rows, err := s.db.Query(ctx, `
		SELECT u.id, u.name, u.email, u.created_at, u.last_login_at,
		       (SELECT count(*) FROM memberships m WHERE m.user_id = u.id AND m.status = 'active') AS groups,
		       (SELECT count(*) FROM messages m WHERE m.author_id = u.id) AS messages,
		       (SELECT count(*) FROM flags f WHERE f.flagged_by = u.id) AS flags,
		       u.visits,
		       CASE WHEN u.status <> 'active' THEN u.status
		            WHEN EXISTS (SELECT 1 FROM bounce_scores b WHERE b.email = lower(u.email) AND b.disabled_at IS NOT NULL)
		              OR EXISTS (SELECT 1 FROM suppressions x WHERE lower(x.email) = lower(u.email) AND x.reason IN ('hard_bounce', 'complaint', 'bounce_score'))
		              THEN 'bouncing'
		            WHEN EXISTS (SELECT 1 FROM suppressions x WHERE lower(x.email) = lower(u.email) AND x.reason = 'unsubscribed')
		              THEN 'unsubscribed'
		            ELSE 'active' END AS status
		FROM users u
		WHERE $1 = '' OR u.name ILIKE '%' || $1 || '%' OR u.email ILIKE '%' || $1 || '%'
		ORDER BY `+order+` `+dir+` NULLS LAST, u.id
		LIMIT `+limit+` OFFSET $2`, escapeLike(q.Search), q.Offset)
	if err != nil {
		return mapErr(err, "user report")
	}
	defer rows.Close()
	var r UserReportRow
	for rows.Next() {
		if err := rows.Scan(&r.ID, &r.Name, &r.Email, &r.Joined, &r.LastLogin, &r.Groups, &r.Messages, &r.Flags, &r.Visits, &r.Status); err != nil {
			return mapErr(err, "user report row")
		}
		r.Name = ShortName(r.Name)
		if err := fn(r); err != nil {
			return err
		}
	}
	return mapErr(rows.Err(), "user report")
}

// ShortName is a name as reports show it: the first name and the last
// name's initial ("Ann Lee" → "Ann L."), as Connect's user report did.
func ShortName(name string) string {
	f := strings.Fields(name)
	if len(f) < 2 {
		return name
	}
	last := []rune(f[len(f)-1])
	return strings.Join(f[:len(f)-1], " ") + " " + string(last[0]) + "."
}

// GroupReportRow is one line of the group report.
type GroupReportRow struct {
	ID       int64
	Slug     string
	Name     string
	Messages int
	Threads  int
	Replies  int
	Posters  int
	Category string
	Location string
	Members  int
	Privacy  string // "listed, open", "unlisted, by invitation", …
	Creator  string
	Created  time.Time
}

var groupReportSorts = map[string]string{
	"name": "lower(g.name)", "messages": "messages", "threads": "threads", "posters": "posters",
	"members": "members", "category": "category", "created": "g.created_at",
}

// EachGroupReportRow calls fn for each row of the group report.
func (s *Store) EachGroupReportRow(ctx context.Context, q ReportQuery, fn func(GroupReportRow) error) error {
	order, dir, limit := q.clauses(groupReportSorts)
	rows, err := s.db.Query(ctx, `
		SELECT g.id, g.slug, g.name,
		       coalesce(st.messages, 0) AS messages, coalesce(st.threads, 0) AS threads, coalesce(st.posters, 0) AS posters,
		       coalesce(c.name, '') AS category, g.location,
		       (SELECT count(*) FROM memberships m WHERE m.group_id = g.id AND m.status = 'active') AS members,
		       g.listed, g.join_policy, coalesce(u.name, ''), g.created_at
		FROM groups g
		LEFT JOIN categories c ON c.id = g.category_id
		LEFT JOIN users u ON u.id = g.created_by
		LEFT JOIN LATERAL (
			SELECT count(*) AS messages, count(DISTINCT m.thread_id) AS threads, count(DISTINCT m.author_id) AS posters
			FROM messages m WHERE m.group_id = g.id AND m.status = 'approved'
		) st ON true
		WHERE $1 = '' OR g.name ILIKE '%' || $1 || '%' OR g.slug ILIKE '%' || $1 || '%'
		ORDER BY `+order+` `+dir+` NULLS LAST, g.id
		LIMIT `+limit+` OFFSET $2`, escapeLike(q.Search), q.Offset)
	if err != nil {
		return mapErr(err, "group report")
	}
	defer rows.Close()
	var r GroupReportRow
	for rows.Next() {
		var listed bool
		var policy string
		if err := rows.Scan(&r.ID, &r.Slug, &r.Name, &r.Messages, &r.Threads, &r.Posters, &r.Category, &r.Location, &r.Members,
			&listed, &policy, &r.Creator, &r.Created); err != nil {
			return mapErr(err, "group report row")
		}
		r.Replies = max(r.Messages-r.Threads, 0)
		vis := "unlisted"
		if listed {
			vis = "listed"
		}
		r.Privacy = vis + ", " + map[string]string{"open": "open", "request": "by request", "invite": "by invitation"}[policy]
		if err := fn(r); err != nil {
			return err
		}
	}
	return mapErr(rows.Err(), "group report")
}

// DailyCount is one day of a dashboard series.
type DailyCount struct {
	Day   time.Time
	Count int
}

// Series returns a dashboard series: one count per day (or week) over
// the last n periods, zero-filled, oldest first.
func (s *Store) Series(ctx context.Context, what string, days int) ([]DailyCount, error) {
	q, ok := map[string]string{
		"messages":   `SELECT date_trunc('day', created_at) AS d, count(*) FROM messages WHERE created_at >= $1 AND status = 'approved' GROUP BY 1`,
		"deliveries": `SELECT date_trunc('day', sent_at, 'UTC') AS d, count(*) FROM deliveries WHERE sent_at >= $1 AND state = 'sent' GROUP BY 1`,
		"failures":   `SELECT date_trunc('day', created_at, 'UTC') AS d, count(*) FROM deliveries WHERE created_at >= $1 AND state = 'failed' GROUP BY 1`,
		"bounces":    `SELECT date_trunc('day', received_at, 'UTC') AS d, count(*) FROM bounce_events WHERE received_at >= $1 AND kind IN ('hard', 'soft') AND verified GROUP BY 1`,
		"complaints": `SELECT date_trunc('day', received_at, 'UTC') AS d, count(*) FROM bounce_events WHERE received_at >= $1 AND kind = 'complaint' AND verified GROUP BY 1`,
		"members":    `SELECT date_trunc('week', created_at) AS d, count(*) FROM users WHERE created_at >= $1 GROUP BY 1`,
	}[what]
	if !ok {
		return nil, fmt.Errorf("unknown series %q", what)
	}
	if what != "messages" && what != "members" {
		// Retention removes old deliveries and bounce events after adding
		// them to daily_counts (in the same statement): the day's figure is
		// both together, so it does not change when rows are removed. (what
		// is one of the keys above, never the request's text.)
		q = q + ` UNION ALL SELECT (day::timestamp AT TIME ZONE 'UTC') AS d, count FROM daily_counts
			WHERE series = '` + what + `' AND day >= ($1::timestamptz AT TIME ZONE 'UTC')::date`
	}
	step := 24 * time.Hour
	if what == "members" {
		step = 7 * 24 * time.Hour
	}
	now := time.Now().UTC()
	start := now.Truncate(24 * time.Hour).Add(-time.Duration(days-1) * step)
	if what == "members" {
		// date_trunc('week') starts weeks on Monday.
		for start.Weekday() != time.Monday {
			start = start.Add(-24 * time.Hour)
		}
	}
	rows, err := s.db.Query(ctx, `SELECT d, sum(count)::bigint FROM (`+q+`) x(d, count) GROUP BY d`, start)
	if err != nil {
		return nil, mapErr(err, "series "+what)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DailyCount, error) {
		var d DailyCount
		return d, r.Scan(&d.Day, &d.Count)
	})
	if err != nil {
		return nil, mapErr(err, "series "+what)
	}
	byDay := map[string]int{}
	for _, d := range got {
		byDay[d.Day.UTC().Format("2006-01-02")] = d.Count
	}
	out := make([]DailyCount, 0, days)
	for d := start; !d.After(now); d = d.Add(step) {
		out = append(out, DailyCount{Day: d, Count: byDay[d.Format("2006-01-02")]})
	}
	return out, nil
}

-- The audit log is paged by keyset (at, id) with cursors that carry milliseconds (what the API and
-- JavaScript dates hold); PostgreSQL's default microseconds made entries within the same
-- millisecond as a page's last one fall between pages (skipped by the streamed export and the
-- dashboard's paging). Millisecond precision makes the cursor exact; existing values are rounded
-- once (a rewrite, not an UPDATE: the append-only trigger is not involved).
ALTER TABLE "audit_log" ALTER COLUMN "at" TYPE timestamp(3) with time zone;

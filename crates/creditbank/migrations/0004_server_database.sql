-- 0004: the same rules on a server database (PostgreSQL) with concurrent writers. Numbers come
-- from sequences and counters, never from max() + 1; a posting is reversed at most once by a
-- constraint, not by a check that two writers could both pass.

-- Named sequences (PostgreSQL has real ones; here one writer moves a counter row).
CREATE TABLE sequence (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO sequence (name, value) VALUES
    ('site_seq', (SELECT coalesce(max(seq), 0) FROM site)),
    ('credit_account_id', (SELECT coalesce(max(id), 0) FROM credit_account));

-- The last serial issued in each certificate series (issuer, province, site, year, level):
-- serials stay gapless within a series, one writer of a series at a time (the row's lock).
CREATE TABLE certificate_series (
    series      TEXT PRIMARY KEY,
    last_serial INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO certificate_series (series, last_serial)
    SELECT substr(number, 1, 15), count(*) FROM certificate GROUP BY substr(number, 1, 15);

CREATE UNIQUE INDEX credit_posting_reversed_once ON credit_posting (reverses)
    WHERE reverses IS NOT NULL;

-- 50_schedule: ripple_backup_next_run(), the next fire time of a cron schedule in a
-- time zone (the parser and DST rules are unit-tested in test/unit/test_cron.c;
-- here: the SQL surface, its defaults and its errors).
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

SELECT ripple_backup_next_run('*/15 * * * *', '2024-01-01 00:00:00+00');
SELECT ripple_backup_next_run('0 2 * * *', '2024-01-01 03:00+00');
-- strictly after, also from a fraction of a second before a fire time
SELECT ripple_backup_next_run('* * * * *', '2024-01-01 00:00:59.999+00');
SELECT ripple_backup_next_run('* * * * *', '2024-01-01 00:01:00+00');

-- defaults: after now(), in UTC
SELECT ripple_backup_next_run('* * * * *') > now() AS after_now,
       ripple_backup_next_run('* * * * *') <= now() + interval '1 minute' AS within_a_minute;
SELECT ripple_backup_next_run('0 0 * * *', '2024-06-01 12:00+02');

-- names, Sunday as 7, steps, shortcuts (2026-11-26 is a Thursday)
SELECT ripple_backup_next_run('0 12 * * 7', '2026-11-26 00:00+00');
SELECT ripple_backup_next_run('0 12 * * SUN', '2026-11-26 00:00+00');
SELECT ripple_backup_next_run('30 8 * * mon-fri', '2026-11-27 09:00+00');
SELECT ripple_backup_next_run('5/20 */6 * jan,Jul *', '2026-11-26 00:00+00');
SELECT ripple_backup_next_run('@monthly', '2026-11-26 00:00+00');
SELECT ripple_backup_next_run('@yearly', '2026-06-01 00:00+00', 'Europe/Berlin');
-- both day fields restricted: either may match (the 13th or a Friday)
SELECT ripple_backup_next_run('0 0 13 * fri', '2024-09-01 00:00+00');

-- leap years and month ends
SELECT ripple_backup_next_run('0 0 29 2 *', '2025-01-01 00:00+00');
SELECT ripple_backup_next_run('0 0 29 2 *', '2096-03-01 00:00+00');
SELECT ripple_backup_next_run('0 0 31 * *', '2024-04-01 00:00+00');

-- DST: a time the clocks skip fires when the gap ends; a repeated time fires once
SELECT ripple_backup_next_run('30 2 * * *', '2024-03-30 12:00+00', 'Europe/Berlin');
SELECT ripple_backup_next_run('30 2 * * *', '2024-10-26 12:00+00', 'Europe/Berlin');
SELECT ripple_backup_next_run('30 2 * * *', '2024-10-27 00:30+00', 'Europe/Berlin');
SELECT ripple_backup_next_run('30 1 * * *', '2024-11-02 12:00+00', 'America/New_York');
-- hourly across the fall back in New York: 01:00 EDT, then 02:00 EST
WITH RECURSIVE fires(n, t) AS (
    SELECT 0, timestamptz '2024-11-03 03:30+00'
  UNION ALL
    SELECT n + 1, ripple_backup_next_run('0 * * * *', t, 'America/New_York')
      FROM fires WHERE n < 4)
SELECT n, t, t AT TIME ZONE 'America/New_York' AS new_york FROM fires;
-- agrees with PostgreSQL's zone data on the wall clock; names in any case
SELECT ripple_backup_next_run('0 9 * * *', '2024-07-01 00:00+00', 'Asia/Kolkata')
       AT TIME ZONE 'Asia/Kolkata' AS kolkata;
SELECT ripple_backup_next_run('0 0 * * *', '2024-07-01 00:00+00', 'europe/berlin');
-- any zone SET TimeZone accepts, read as SET TimeZone reads it: POSIX zones (UTC+3
-- is three hours west of UTC), POSIX DST rules, hours east of UTC, intervals
SELECT ripple_backup_next_run('0 2 * * *', '2024-01-01 00:00+00', 'UTC+3');
SELECT ripple_backup_next_run('0 2 * * *', '2024-01-01 00:00+00', '<+0330>-3:30');
SELECT ripple_backup_next_run('30 2 * * *', '2024-03-30 12:00+00', 'CET-1CEST,M3.5.0,M10.5.0/3');
SELECT ripple_backup_next_run('30 2 * * *', '2024-10-27 00:30+00', 'CET-1CEST,M3.5.0,M10.5.0/3');
SELECT ripple_backup_next_run('0 2 * * *', '2024-01-01 00:00+00', '5.5');
SELECT ripple_backup_next_run('0 2 * * *', '2024-01-01 00:00+00', 'INTERVAL ''-08:00''');
SELECT z AS zone,
       ripple_backup_next_run('0 2 * * *', '2024-01-01 00:00+00', z) AT TIME ZONE z AS local_fire
  FROM unnest(ARRAY['UTC+3', 'UTC-3', 'EST5EDT', 'Europe/Berlin']) z;
-- accepted exactly when SET TimeZone accepts the same text
CREATE FUNCTION pg_temp.accepts(zone text, via_set boolean) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  IF via_set THEN
    PERFORM set_config('TimeZone', zone, true);
  ELSE
    PERFORM ripple_backup_next_run('0 0 * * *', '2024-01-01 00:00+00', zone);
  END IF;
  RETURN true;
EXCEPTION WHEN invalid_parameter_value THEN
  RETURN false;
END
$$;
SELECT z AS zone, pg_temp.accepts(z, true) AS set_timezone, pg_temp.accepts(z, false) AS next_run
  FROM unnest(ARRAY['UTC+3', 'utc', 'europe/berlin', 'posix/Europe/Berlin', 'EST5EDT',
                    '<+0330>-3:30', 'CET-1CEST,M3.5.0,M10.5.0/3', '-8', '5.5',
                    'INTERVAL ''+02:00''', '1000', '', 'Mars/Olympus', '../../etc/passwd',
                    '/etc/localtime', 'Europe/Berlin ', 'UTC+', 'right/UTC']) z;
-- a fraction of a second before 2000-01-01 counts as the second before
SELECT ripple_backup_next_run('0 0 * * *', '1999-12-31 23:59:59.5+00');

-- NULL in, NULL out
SELECT ripple_backup_next_run(NULL) IS NULL AS null_schedule,
       ripple_backup_next_run('* * * * *', NULL) IS NULL AS null_after,
       ripple_backup_next_run('* * * * *', now(), NULL) IS NULL AS null_timezone;

-- errors point at the field
SELECT ripple_backup_next_run('61 * * * *');
SELECT ripple_backup_next_run('* * * *');
SELECT ripple_backup_next_run('0 0 * * funday');
SELECT ripple_backup_next_run('*/0 * * * *');
SELECT ripple_backup_next_run('0 5-1 * * *');
SELECT ripple_backup_next_run('0 0 30 2 *');
SELECT ripple_backup_next_run('@reboot');
SELECT ripple_backup_next_run('0 0 * * *', now(), 'Mars/Olympus');
SELECT ripple_backup_next_run('0 0 * * *', now(), '../../etc/passwd');
SELECT ripple_backup_next_run('0 0 * * *', now(), '');
SELECT ripple_backup_next_run('0 0 * * *', now(), '1000');
SELECT ripple_backup_next_run('0 0 * * *', 'infinity');
SELECT ripple_backup_next_run('0 0 * * *', '12000-01-01 00:00+00');
-- ... with SQLSTATE 22023 (invalid_parameter_value)
DO $$
DECLARE
  bad text[] := ARRAY['61 * * * *', '1,,2 * * * *', '5x * * * *', '0 0 31 4 *'];
  s text;
BEGIN
  FOREACH s IN ARRAY bad LOOP
    BEGIN
      PERFORM ripple_backup_next_run(s);
      RAISE NOTICE 'accepted: %', s;
    EXCEPTION WHEN invalid_parameter_value THEN
      RAISE NOTICE '%: %', SQLSTATE, SQLERRM;
    END;
  END LOOP;
  BEGIN
    PERFORM ripple_backup_next_run('0 0 * * *', now(), 'Mars/Olympus');
  EXCEPTION WHEN invalid_parameter_value THEN
    RAISE NOTICE '%: %', SQLSTATE, SQLERRM;
  END;
END
$$;

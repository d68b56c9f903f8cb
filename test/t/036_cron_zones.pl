# 036_cron_zones.pl — the next fire times of ripple_backup_next_run() against a
# minute-by-minute brute force that reads every wall clock from PostgreSQL itself
# (AT TIME ZONE), for seeded random schedules in zones with DST both ways, a
# 30-minute shift (Lord Howe), a southern summer (Santiago) and POSIX zones (UTC+3,
# a POSIX DST rule), from instants around the zones' DST changes and from random
# instants in 1971-2060.  The brute force's rules are cron.h's: a matching wall
# minute fires at its first occurrence; a gap fires when it ends if it skipped a
# matching minute.  Also: a job may use any zone SET TimeZone accepts.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $node = RippleTest::Cluster->new_node('zones', destination => "file://$dir");
sub sql { return $node->safe_psql('postgres', $_[0]); }

# --- the brute force, in SQL -------------------------------------------------------------
sql(<<'EOF');
CREATE FUNCTION ref_matches(m bigint, h bigint, md bigint, mo bigint, wd bigint,
		mstar boolean, wstar boolean, w timestamp) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT (m >> extract(minute FROM w)::int) & 1 = 1
	   AND (h >> extract(hour FROM w)::int) & 1 = 1
	   AND (mo >> extract(month FROM w)::int) & 1 = 1
	   AND CASE WHEN mstar OR wstar
				THEN (md >> extract(day FROM w)::int) & 1 = 1 AND (wd >> extract(dow FROM w)::int) & 1 = 1
				ELSE (md >> extract(day FROM w)::int) & 1 = 1 OR (wd >> extract(dow FROM w)::int) & 1 = 1 END
$$;
-- The first fire strictly after `after` within 30 days, or NULL.
CREATE FUNCTION ref_next(m bigint, h bigint, md bigint, mo bigint, wd bigint,
		mstar boolean, wstar boolean, after timestamptz, z text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT t FROM generate_series(date_trunc('minute', after, 'UTC') + interval '1 minute',
								  after + interval '30 days', interval '1 minute') t,
		LATERAL (SELECT t AT TIME ZONE z AS w,
						(t - interval '1 second') AT TIME ZONE z AS wb) x
	 WHERE (extract(second FROM w) = 0 AND ref_matches(m, h, md, mo, wd, mstar, wstar, w)
			AND (t - interval '30 minutes') AT TIME ZONE z <> w
			AND (t - interval '1 hour') AT TIME ZONE z <> w
			AND (t - interval '2 hours') AT TIME ZONE z <> w)
		OR (w - wb > interval '1 second'
			AND EXISTS (SELECT 1 FROM generate_series(wb + interval '1 second', w - interval '1 second',
													  interval '1 minute') s
						 WHERE ref_matches(m, h, md, mo, wd, mstar, wstar, s)))
	 LIMIT 1
$$;
EOF

# --- seeded random schedules (the generator of test/unit/test_cron.c) --------------------
my $rng = 0x2545F491;
sub rnd {
	my ($n) = @_;
	# a 31-bit linear congruential generator: deterministic everywhere
	$rng = ($rng * 1103515245 + 12345) % 2147483648;
	return int($rng / 65536) % $n;
}
my @lo = (0, 0, 1, 1, 0);
my @hi = (59, 23, 31, 12, 7);
my @mnames = qw(jan feb mar apr may jun jul aug sep oct nov dec);
my @wnames = qw(sun mon tue wed thu fri sat sun);
sub put {
	my ($f, $v, $name_ok) = @_;
	return $mnames[ $v - 1 ] if $name_ok && $f == 3 && rnd(2);
	return $wnames[$v] if $name_ok && $f == 4 && rnd(2);
	return "$v";
}
sub bit { my ($f, $v) = @_; return ($f == 4 && $v == 7) ? 0 : $v; }

sub gen_schedule {
	my (@text, @set);
	my ($mstar, $wstar) = (0, 0);
	for my $f (0 .. 4) {
		my $n = 1 + (rnd(3) == 0 ? rnd(3) : 0);
		my $set = 0;
		my $star = 0;
		my @elems;
		if ($f >= 2 && rnd(10) < 6) {
			push @elems, '*';
			$n = 0;
			$star = 1;
			$set |= 1 << bit($f, $_) for $lo[$f] .. $hi[$f];
		}
		for my $k (0 .. $n - 1) {
			my $width = $hi[$f] - $lo[$f] + 1;
			my $form = rnd(6);
			my ($a, $b, $step) = (0, 0, 1);
			my $e;
			if ($form == 0) {
				($a, $b) = ($lo[$f], $hi[$f]);
				$e = '*';
				if (rnd(2)) { $step = 1 + rnd($width); $e .= "/$step"; }
				$star = 1 if $k == 0;
			}
			elsif ($form <= 2) {
				$a = $b = $lo[$f] + rnd($width);
				$e = put($f, $a, 1);
			}
			else {
				$a = $lo[$f] + rnd($width);
				$b = $a + rnd($hi[$f] - $a + 1);
				$e = put($f, $a, !($f == 4 && $a == 7));
				if ($form == 5) { $b = $hi[$f]; }
				else { $e .= '-' . put($f, $b, !($f == 4 && ($b == 0 || ($b == 7 && $a == 0)))); }
				if ($form >= 4) { $step = 1 + rnd($width); $e .= "/$step"; }
			}
			for (my $v = $a; $v <= $b; $v += $step) { $set |= 1 << bit($f, $v); }
			push @elems, $e;
		}
		push @text, join(',', @elems);
		push @set, $set;
		$mstar = $star if $f == 2;
		$wstar = $star if $f == 4;
	}
	return (join(' ', @text), \@set, $mstar, $wstar);
}

# A schedule that can never fire is refused by the parser: leave those out.
sub can_fire {
	my ($set, $mstar, $wstar) = @_;
	return 1 if $mstar || !$wstar;
	my @maxd = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31);
	for my $m (1 .. 12) {
		next unless ($set->[3] >> $m) & 1;
		for my $d (1 .. $maxd[$m]) { return 1 if ($set->[2] >> $d) & 1; }
	}
	return 0;
}

my @zones = ('Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'America/Santiago',
	'UTC+3', 'CET-1CEST,M3.5.0,M10.5.0/3');
my $per_zone = 130;
my ($compared, $beyond, $minutes) = (0, 0, 0);
my @bad;
for my $z (@zones) {
	# the instants at which the zone's offset changes in 2024-2026
	my @hot = split /\n/, sql("SELECT extract(epoch FROM t)::bigint
		FROM generate_series(timestamptz '2024-01-01 00:00+00', '2027-01-01 00:00+00', '30 minutes') t
		WHERE (t AT TIME ZONE '$z') - ((t - interval '30 minutes') AT TIME ZONE '$z') <> interval '30 minutes'");
	my @rows;
	for my $i (1 .. $per_zone) {
		my ($text, $set, $mstar, $wstar);
		do { ($text, $set, $mstar, $wstar) = gen_schedule() } until can_fire($set, $mstar, $wstar);
		my $k = @hot ? rnd(3) : 2;
		my $after = $k == 0 ? $hot[ rnd(scalar @hot) ] - 3 * 3600 + rnd(6 * 3600)
		  : $k == 1 ? $hot[ rnd(scalar @hot) ] - 3 * 86400 + rnd(6 * 86400)
		  : 31536000 + rnd(2000000000);
		push @rows, sprintf("(%d, '%s', %s, %s, %s, to_timestamp(%d))", $i, $text,
			join(', ', @$set), $mstar ? 'true' : 'false', $wstar ? 'true' : 'false', $after);
	}
	# three successive fires of each schedule, each against the brute force
	my $out = sql("SET TimeZone = 'UTC';
		WITH RECURSIVE s(i, text, m, h, md, mo, wd, ms, ws, after) AS (VALUES " . join(",\n", @rows) . "),
		chain(i, n, after, got, want) AS (
			SELECT i, 1, after, ripple_backup_next_run(text, after, '$z'),
				   ref_next(m, h, md, mo, wd, ms, ws, after, '$z') FROM s
		  UNION ALL
			SELECT c.i, c.n + 1, c.got, ripple_backup_next_run(s.text, c.got, '$z'),
				   ref_next(s.m, s.h, s.md, s.mo, s.wd, s.ms, s.ws, c.got, '$z')
			  FROM chain c JOIN s USING (i)
			 WHERE c.n < 3 AND c.want IS NOT NULL AND c.got = c.want)
		SELECT c.i, s.text, extract(epoch FROM c.after)::bigint, extract(epoch FROM c.got)::bigint,
			   coalesce(extract(epoch FROM c.want)::bigint, -1)
		  FROM chain c JOIN s USING (i) ORDER BY c.i, c.n");
	for my $line (split /\n/, $out) {
		my ($i, $text, $after, $got, $want) = split /\|/, $line;
		if ($want < 0) {
			# nothing in the 30 days: ours must lie beyond them
			push @bad, "$z: '$text' after $after: got $got, brute force found none"
			  if $got < $after + 30 * 86400;
			$beyond++;
			$minutes += 30 * 1440;
			next;
		}
		push @bad, "$z: '$text' after $after: got $got, brute force $want" if $got != $want;
		$compared++;
		$minutes += int(($want - $after) / 60) + 1;
	}
}
is(scalar(@bad), 0, 'every next fire time agrees with the brute force over PostgreSQL\'s wall clock')
  or diag(join("\n", @bad[ 0 .. ($#bad < 20 ? $#bad : 19) ]));
cmp_ok($compared, '>', 500, "$compared next fire times compared ($beyond beyond the 30-day window)");
note("$minutes instants read through AT TIME ZONE by the brute force");

# --- a job in a POSIX zone fires on that zone's wall clock --------------------------------
my $id = sql("SELECT ripple_backup_schedule('posix', '15 4 * * *', timezone => 'UTC+3')");
like($id, qr/^\d+$/, "a job may use the POSIX zone UTC+3");
is(sql("SELECT to_char(next_run AT TIME ZONE 'UTC', 'HH24:MI') FROM ripple_backup.jobs WHERE jobid = $id"),
	'07:15', 'its next_run is 04:15 three hours west of UTC, as SET TimeZone reads UTC+3');

$node->stop;
done_testing();

# 079_soak.pl — consecutive backups of a small database to the S3 test server: every
# one succeeds, and the launcher (the one process that lives through them all) keeps
# its open file descriptors (/proc/PID/fd) and its resident memory (/proc/PID/status
# VmRSS) flat.
#
# `make test` runs the short form (20 backups).  bench/soak.sh runs the full form
# (RIPPLE_SOAK_BACKUPS=120 or more) and prints the series this test notes: fds and
# RSS after each backup, and the median time of a backup.
#
# Flat means: after a warm-up of 5 backups, the fd count never rises more than 2 above
# its highest value in the warm-up and ends no higher than 1 above it (a leak of one
# descriptor a backup shows at once; the count moves by a few as PostgreSQL's file
# descriptor cache opens catalog files and the notifier and verifiers come and go,
# so each sample is the least of five over half a second),
# and RSS grows by less than 4 MB (8 MB in the full form) from the end of the warm-up.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;
use Time::HiRes qw(usleep time);

my $n = $ENV{RIPPLE_SOAK_BACKUPS} // 20;
my $warmup = 5;
die "RIPPLE_SOAK_BACKUPS must be more than $warmup" unless $n =~ /^\d+$/ && $n > $warmup;
my $rss_bound_kb = $n >= 100 ? 8192 : 4096;

my $s3 = RippleTest::S3Server->new(bucket => 'backups');
my $node = RippleTest::Cluster->new_node('soak', s3 => $s3, prefix => 'soak');
RippleTest::Cluster::create_app_db($node, 'app', 2000);
my $launcher = RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'ripple_backup launcher'", 't', 30) eq 't'
  ? $node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'ripple_backup launcher'")
  : die 'no launcher';

sub fds {
	opendir(my $d, "/proc/$launcher/fd") or die "/proc/$launcher/fd: $!";
	my $c = grep { !/^\./ } readdir $d;
	closedir $d;
	return $c;
}

sub rss_kb {
	open my $fh, '<', "/proc/$launcher/status" or die "/proc/$launcher/status: $!";
	while (<$fh>) { return $1 if /^VmRSS:\s+(\d+) kB/; }
	die 'no VmRSS';
}

my (@fds, @rss, @secs);
my $failed = 0;
for my $i (1 .. $n) {
	my $t0 = time;
	my $id = RippleTest::Cluster::backup_now($node, 'app', "soak $i");
	my $status = RippleTest::Cluster::wait_backup($node, $id, '2 minutes');
	push @secs, time - $t0;
	if ($status ne 'succeeded') {
		$failed++;
		diag "backup $i ($id): $status: " . (RippleTest::Cluster::backup_row($node, $id)->{error} // '');
	}
	# the launcher has stored the result and freed the slot when the wait returns;
	# the least of a few samples leaves out descriptors held for a moment (a leaked
	# one stays)
	my $f = fds();
	for (1 .. 4) { usleep(100_000); my $g = fds(); $f = $g if $g < $f; }
	push @fds, $f;
	push @rss, rss_kb();
}
is($failed, 0, "all $n consecutive backups succeeded");
is($node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'ripple_backup launcher'"),
	$launcher, 'the same launcher ran them all');

my @sorted = sort { $a <=> $b } @secs;
my $median = @sorted % 2 ? $sorted[$#sorted / 2] : ($sorted[@sorted / 2 - 1] + $sorted[@sorted / 2]) / 2;
note "soak: backups=$n";
note 'soak: fds ' . join(' ', @fds);
note 'soak: rss_kb ' . join(' ', @rss);
note sprintf('soak: seconds per backup: median %.2f, min %.2f, max %.2f', $median, $sorted[0], $sorted[-1]);

my $fd0 = (sort { $a <=> $b } @fds[0 .. $warmup - 1])[-1];
my $fdmax = (sort { $a <=> $b } @fds[$warmup .. $#fds])[-1];
cmp_ok($fdmax, '<=', $fd0 + 2, "launcher fds stay flat after the warm-up (at most $fd0 in it, at most $fdmax after)");
cmp_ok($fds[-1], '<=', $fd0 + 1, "and end where they were ($fd0 → $fds[-1])");
my $growth = $rss[-1] - $rss[$warmup - 1];
cmp_ok($growth, '<', $rss_bound_kb,
	sprintf('launcher RSS grows by less than %d kB (%d → %d kB, %+d kB)', $rss_bound_kb, $rss[$warmup - 1], $rss[-1], $growth));
my @keys = grep { /\.dump(\.\w+)?$/ } $s3->list_keys('soak/');
is(scalar @keys, $n, "$n backup objects in the bucket");

done_testing();

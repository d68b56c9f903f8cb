# 079_soak.pl — consecutive backups of a small database to the S3 test server: every
# one succeeds, and the launcher (the one process that lives through them all) keeps
# its open file descriptors (/proc/PID/fd) and its memory (/proc/PID/status RssAnon,
# VmRSS printed) flat.
#
# `make test` runs the short form (20 backups).  bench/soak.sh runs the full form
# (RIPPLE_SOAK_BACKUPS=120 or more) and prints the series this test notes: fds and
# RSS after each backup, and the median time of a backup.
#
# Flat means: after a warm-up of 5 backups, the fd count never rises more than 8 above
# its highest value in the warm-up, and every descriptor opened since then is a
# relation file (PostgreSQL's file cache opens the free-space and visibility-map
# forks of catalog tables as they grow: 3 more over 120 backups), never a socket,
# pipe or other file (a leak of one a backup fails both); each sample is the least
# of five over half a second, as the notifier and verifiers come and go.  The
# launcher's private memory (RssAnon) grows by less than 4 MB (8 MB in the full
# form) from the end of the warm-up; VmRSS is printed too, but it also counts the
# pages of shared buffers the launcher has touched, which grow with the catalog.
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

# What the launcher's descriptors point at.
sub fd_targets {
	opendir(my $d, "/proc/$launcher/fd") or die "/proc/$launcher/fd: $!";
	my @t = map { readlink("/proc/$launcher/fd/$_") // '?' } grep { !/^\./ } readdir $d;
	closedir $d;
	return @t;
}

# VmRSS and RssAnon (kB) of the launcher: VmRSS also counts the pages of shared
# buffers it has touched, which grow with the catalog; RssAnon is its own memory.
sub rss_kb {
	my %v;
	open my $fh, '<', "/proc/$launcher/status" or die "/proc/$launcher/status: $!";
	while (<$fh>) { $v{$1} = $2 if /^(VmRSS|RssAnon):\s+(\d+) kB/; }
	die 'no VmRSS' unless defined $v{VmRSS} && defined $v{RssAnon};
	return ($v{VmRSS}, $v{RssAnon});
}

my (@fds, @rss, @anon, @secs, %warm_targets);
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
	my ($rss, $anon) = rss_kb();
	push @rss, $rss;
	push @anon, $anon;
	%warm_targets = map { $_ => 1 } fd_targets() if $i == $warmup;
}
is($failed, 0, "all $n consecutive backups succeeded");
is($node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'ripple_backup launcher'"),
	$launcher, 'the same launcher ran them all');

my @sorted = sort { $a <=> $b } @secs;
my $median = @sorted % 2 ? $sorted[$#sorted / 2] : ($sorted[@sorted / 2 - 1] + $sorted[@sorted / 2]) / 2;
note "soak: backups=$n";
note 'soak: fds ' . join(' ', @fds);
note 'soak: rss_kb ' . join(' ', @rss);
note 'soak: rss_anon_kb ' . join(' ', @anon);
note sprintf('soak: seconds per backup: median %.2f, min %.2f, max %.2f', $median, $sorted[0], $sorted[-1]);

my $fd0 = (sort { $a <=> $b } @fds[0 .. $warmup - 1])[-1];
my $fdmax = (sort { $a <=> $b } @fds[$warmup .. $#fds])[-1];
cmp_ok($fdmax, '<=', $fd0 + 8, "launcher fds stay bounded after the warm-up (at most $fd0 in it, at most $fdmax after)");
my @new = grep { !$warm_targets{$_} } fd_targets();
note 'soak: fds opened since the warm-up: ' . (join(' ', @new) || 'none');
is_deeply([ grep { !m{/base/\d+/\d+(_fsm|_vm)?(\.\d+)?$} } @new ], [],
	'every descriptor opened since the warm-up is a relation file (the file cache opens the forks of catalog tables as they grow), none a socket, pipe or other file');
my $growth = $anon[-1] - $anon[$warmup - 1];
cmp_ok($growth, '<', $rss_bound_kb,
	sprintf('launcher private memory (RssAnon) grows by less than %d kB (%d → %d kB, %+d kB; VmRSS %d → %d kB)',
		$rss_bound_kb, $anon[$warmup - 1], $anon[-1], $growth, $rss[$warmup - 1], $rss[-1]));
my @keys = grep { /\.dump(\.\w+)?$/ } $s3->list_keys('soak/');
is(scalar @keys, $n, "$n backup objects in the bucket");

done_testing();

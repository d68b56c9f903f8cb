# 078_disk_full.pl — a backup to file:// on a file system that fills up: the backup
# fails with "No space left on device" in the catalog and the log, no partial file
# lists as a backup and the temporary file is removed (the space is given back), and
# the next backup, to a roomy directory, succeeds.
#
# The small file system is an 8 MB tmpfs that test/run_tests.sh mounts as root
# (RIPPLE_SMALL_FS; the tests themselves run as the postgres user, which cannot
# mount) and unmounts when the run ends.  Without it the test is skipped, with the
# reason, and counts as a skip, not a pass.
#
# Time to detect: the first write that the file system refuses fails the backup
# (no retry: ENOSPC is not transient for file://); measured and bounded loosely.
use strict;
use warnings;
use File::Find;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;
use Time::HiRes qw(time);

my $small = $ENV{RIPPLE_SMALL_FS};
plan skip_all => 'no small file system to fill: RIPPLE_SMALL_FS is set by test/run_tests.sh when it runs as root and may mount a tmpfs'
  unless defined $small && $small ne '';
my ($fstype) = `stat -f -c %T '$small' 2>/dev/null` =~ /(\S+)/;
my ($blocks, $bsize) = `stat -f -c '%b %S' '$small' 2>/dev/null` =~ /(\d+) (\d+)/;
plan skip_all => "RIPPLE_SMALL_FS=$small is not a small tmpfs (type " . ($fstype // '?') . ')'
  unless ($fstype // '') eq 'tmpfs' && $blocks && $blocks * $bsize <= 64 * 1024 * 1024;
note sprintf('file system %s: %s, %.1f MB', $small, $fstype, $blocks * $bsize / 1048576);

my $dest = "$small/backups";
mkdir $dest or die "$dest: $!";
my $roomy = PostgreSQL::Test::Utils::tempdir('roomy');
my $node = RippleTest::Cluster->new_node('diskfull', destination => "file://$dest",
	conf => "ripple_backup.compression = 'none'\n");
$node->safe_psql('postgres', 'CREATE DATABASE app');
# about 16 MB of table data: twice the file system
$node->safe_psql('app',
	"CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 8) AS payload FROM generate_series(1, 60000) g");

sub files_under {
	my ($dir) = @_;
	my @files;
	find(sub { push @files, $File::Find::name if -f $_ }, $dir);
	return sort @files;
}

sub free_bytes {
	my ($avail, $bs) = `stat -f -c '%a %S' '$small'` =~ /(\d+) (\d+)/;
	return $avail * $bs;
}

my $free_before = free_bytes();
my $offset = -s $node->logfile;
my $t0 = time;
my $id = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $id, '2 minutes'), 'failed', 'the backup to a full file system fails');
my $elapsed = time - $t0;
note sprintf('time to detect: %.1f s', $elapsed);
ok($elapsed < 60, sprintf('promptly (%.1f s)', $elapsed));
my $row = RippleTest::Cluster::backup_row($node, $id);
like($row->{error} // '', qr/could not write file "[^"]*\.tmp-\d+": No space left on device/,
	"the error names the file and says No space left on device: " . ($row->{error} // ''));
is($row->{location}, undef, 'no location');
is($row->{sha256}, undef, 'no checksum');
like(slurp_file($node->logfile, $offset), qr/backup $id of database "app" failed.*\n.*No space left on device/,
	'the log says so');
is_deeply([ files_under($small) ], [], 'nothing is left on the file system: no partial object, no temporary file');
cmp_ok(free_bytes(), '>=', $free_before, 'the space is given back');

# --- the next backup, to a roomy directory, succeeds -----------------------------------
$node->safe_psql('postgres', "ALTER SYSTEM SET ripple_backup.destination = 'file://$roomy'");
$node->reload;
RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.destination', "file://$roomy", 10);
my $next = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $next, '2 minutes'), 'succeeded', 'the next backup, to a roomy directory, succeeds');
my $loc = RippleTest::Cluster::backup_row($node, $next)->{location} // '';
like($loc, qr{^file://\Q$roomy\E/}, 'and is stored there');
ok(-f substr($loc, length('file://')), 'its object exists');

done_testing();

# 042_cli_extension.pl — ripple-backup reads what the extension itself wrote: a
# labelled backup taken with ripple_backup_now() to a directory is listed with its
# label, its metadata agrees with the catalog (id, size, sha256, per-table counts of
# ripple_backup_stats), it verifies (with --archive), and it restores into a new
# database with every count matching — the CLI and the extension agree on keys,
# metadata and checksums, and on the version (the installed extension's, the one in
# the backup's metadata, the CLI's --version).
use strict;
use warnings;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;

my $cli = "$ENV{RIPPLE_SRC}/src/cli/ripple-backup";
my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $work = PostgreSQL::Test::Utils::tempdir('work');
my $node = RippleTest::Cluster->new_node('ext', destination => "file://$dir");
my $expected = RippleTest::Cluster::create_app_db($node, 'app', 4000);

my $id = RippleTest::Cluster::backup_now($node, 'app', 'before migration 42');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'the extension took a backup');
my $row = RippleTest::Cluster::backup_row($node, $id);

my %env = %ENV;
delete $env{$_} for grep { /^(RIPPLE_BACKUP_|AWS_)/ } keys %env;
$env{HOME} = $work;
$env{RIPPLE_BACKUP_DESTINATION} = "file://$dir";

sub cli {
	my (@args) = @_;
	my ($out, $err) = ('', '');
	local %ENV = %env;
	IPC::Run::run([ $cli, @args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

my ($rc, $out, $err) = cli('list');
is($rc, 0, 'list exits 0') or diag $err;
like($out, qr/\bapp\b.*\s$id\s+[0-9a-f]{16}\s+before migration 42$/m, 'list shows the backup with its label');

($rc, $out, $err) = cli('info', $id, '--json');
is($rc, 0, 'info exits 0');
my $info = decode_json($out);
is($info->{size_bytes}, $row->{size_bytes}, 'metadata size = catalog size');
is($info->{sha256}, $row->{sha256}, 'metadata sha256 = catalog sha256');
is($info->{url}, $row->{location}, 'the CLI finds the object where the catalog says it is');
is($info->{label}, 'before migration 42', 'label');
my $extversion = $node->safe_psql('postgres',
	"SELECT extversion FROM pg_extension WHERE extname = 'ripple_backup'");
is($info->{extension_version}, $extversion, 'metadata extension_version = the installed extension');
($rc, $out, $err) = cli('--version');
is($out, "ripple-backup $extversion\n", 'ripple-backup --version = the installed extension');
my %stats = map { my ($s, $t, $n) = split /\|/; ("$s.$t" => $n) }
  split /\n/, $node->safe_psql('postgres', "SELECT schema_name, table_name, row_count FROM ripple_backup_stats($id)");
is_deeply($info->{table_counts}, \%stats, 'metadata counts = ripple_backup_stats()');
is_deeply($info->{table_counts}, $expected, 'and they are the real counts');

($rc, $out, $err) = cli('verify', 'latest', '--archive', '--work-dir', $work);
is($rc, 0, 'verify latest --archive exits 0') or diag $err;

($rc, $out, $err) = cli('restore', $id, '--dbname', 'app_restored', '--create', '--jobs', '2',
	'--host', $node->host, '--port', $node->port, '--work-dir', $work);
is($rc, 0, 'restore exits 0') or diag $err;
is_deeply(RippleTest::Cluster::count_rows($node, 'app_restored', $expected), $expected,
	'the restored database has every row');

$node->stop;
done_testing();

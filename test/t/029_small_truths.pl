# 029_small_truths.pl — small promises kept:
#   - a job name is non-empty and at most 63 bytes (like an identifier): clear errors;
#   - a label longer than a runner's slot holds is cut on a UTF-8 character boundary,
#     so the metadata stays valid UTF-8 and the label a prefix of the catalog's;
#   - with max_worker_processes so low that the launcher could not be registered,
#     ripple_backup_now() still queues but warns that no launcher is running (and a
#     server with a launcher gives no such warning).
use strict;
use warnings;
use Encode ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $node = RippleTest::Cluster->new_node('truths', destination => "file://$dir",
	init => { extra => [ '--encoding=UTF8', '--locale=C' ] });
RippleTest::Cluster::create_app_db($node, 'app', 100);

# --- job names ---------------------------------------------------------------------
my ($ret, $out, $err) = $node->psql('postgres',
	"SELECT ripple_backup_schedule('', '0 3 * * *', 'app')", extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($ret, 0, 'an empty job name is refused');
like($err, qr/ERROR:\s+22023: job name must not be empty/, '... with a clear error (22023)');

my $name63 = ('é' x 31) . 'x';    # 63 bytes
my $name64 = 'é' x 32;            # 64 bytes
($ret, $out, $err) = $node->psql('postgres',
	"SELECT ripple_backup_schedule('$name64', '0 3 * * *', 'app')", extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($ret, 0, 'a job name of 64 bytes is refused');
like($err, qr/ERROR:\s+22023: job name is too long/, '... with a clear error (22023)');
like($err, qr/A job name has at most 63 bytes; this one has 64/, '... whose detail gives the limit and the length');

($ret, $out, $err) = $node->psql('postgres',
	"SELECT ripple_backup_schedule(repeat('é', 550), '0 3 * * *', 'app')");
isnt($ret, 0, 'a job name of 550 × é (1100 bytes) is refused');

($ret, $out, $err) = $node->psql('postgres',
	"SELECT ripple_backup_schedule('$name63', '0 3 * * *', 'app') > 0");
is($ret, 0, 'a job name of 63 bytes is accepted') or diag $err;
($ret, $out, $err) = $node->psql('postgres',
	"INSERT INTO ripple_backup.jobs (job_name, schedule, dbname) VALUES ('', '* * * * *', 'app')");
like($err, qr/violates check constraint "jobs_job_name_length"/, 'the jobs table itself refuses an empty name');
($ret, $out, $err) = $node->psql('postgres',
	"UPDATE ripple_backup.jobs SET job_name = repeat('ü', 40) WHERE job_name = '$name63'");
like($err, qr/violates check constraint "jobs_job_name_length"/,
	'the jobs table itself refuses a name over 63 bytes');

# --- a label longer than the slot is cut on a character boundary -----------------------
# ripple_backup_now() refuses labels of 1024 bytes or more; a row queued by another
# path (here: inserted by a superuser) carries whatever label it has.
my $id = $node->safe_psql('postgres',
	"INSERT INTO ripple_backup.backups (dbname, label, requested_by) VALUES ('app', repeat('é', 550), 'test') RETURNING id");
$node->safe_psql('postgres', 'SELECT ripple_backup.wake_launcher_at_commit()');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'the backup with a 1100-byte label succeeded');
my $row = RippleTest::Cluster::backup_row($node, $id);
my $path = substr($row->{location}, length('file://')) . '.metadata.json';
my $raw = slurp_file($path);
my $copy = $raw;
ok(Encode::decode('UTF-8', $copy, Encode::FB_QUIET) && $copy eq '',
	'the metadata is valid UTF-8 throughout');
my ($label) = $raw =~ /"label"\s*:\s*"([^"]*)"/;
ok(defined $label, 'the metadata has a label');
$label = Encode::decode('UTF-8', $label // '');
like($label, qr/^\x{e9}+$/, 'the label holds only whole characters');
is(length($label), 511, 'the label is cut to the 511 whole characters that fit in 1023 bytes');

# --- no launcher: ripple_backup_now() warns ---------------------------------------------
($ret, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_now('app') > 0");
is($ret, 0, 'with a launcher, ripple_backup_now() works');
unlike($err, qr/WARNING/, '... and gives no warning');

my $lone = RippleTest::Cluster->new_node('no_launcher', destination => "file://$dir",
	conf => "max_worker_processes = 0\n");
ok(slurp_file($lone->logfile) =~ /too many background workers/,
	'with max_worker_processes = 0 the launcher could not be registered');
($ret, $out, $err) = $lone->psql('postgres',
	"SELECT ripple_backup_now('postgres') > 0", extra_params => [ '-v', 'VERBOSITY=verbose' ]);
is($ret, 0, 'ripple_backup_now() still queues the backup');
like($err, qr/WARNING:\s+01000: no ripple_backup launcher is running/, '... but warns that no launcher is running');
like($err, qr/HINT:.*max_worker_processes/, '... with a hint about max_worker_processes');
is($lone->safe_psql('postgres', "SELECT status FROM ripple_backup.backups ORDER BY id DESC LIMIT 1"),
	'queued', '... the backup stays queued');
$lone->stop;

$node->stop;
done_testing();

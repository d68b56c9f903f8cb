# 102_restore_create_properties.pl — ripple-backup restore --create gives the new
# database what pg_restore --create would: the owner, the ACL (REVOKE CONNECT FROM
# PUBLIC, GRANTs), the ALTER DATABASE ... SET and ALTER ROLE ... IN DATABASE ... SET
# settings and the comment that pg_dump recorded for the backed-up database, under
# the new name, without touching the original; --no-owner and --no-privileges leave
# the owner and the ACL out, as they do for pg_restore.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;

my $cli = "$ENV{RIPPLE_SRC}/src/cli/ripple-backup";
my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $node = RippleTest::Cluster->new_node('props', destination => "file://$dir",
	conf => "ripple_backup.verify_after_backup = off\n");

$node->safe_psql('postgres', q{
	CREATE ROLE app_owner NOLOGIN;
	CREATE ROLE reader NOLOGIN;
	CREATE DATABASE "Shop DB" OWNER app_owner;
	REVOKE CONNECT, TEMPORARY ON DATABASE "Shop DB" FROM PUBLIC;
	GRANT CONNECT ON DATABASE "Shop DB" TO reader;
	ALTER DATABASE "Shop DB" SET work_mem = '8MB';
	ALTER DATABASE "Shop DB" SET search_path = shop, public;
	ALTER ROLE reader IN DATABASE "Shop DB" SET statement_timeout = '5s';
	COMMENT ON DATABASE "Shop DB" IS 'the shop';
});
$node->safe_psql('Shop DB', 'CREATE TABLE items AS SELECT g AS id FROM generate_series(1, 777) g');

my $id = RippleTest::Cluster::backup_now($node, 'Shop DB');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'backup of "Shop DB"');

sub props {
	my ($db) = @_;
	my $lit = $db =~ s/'/''/gr;
	return $node->safe_psql('postgres', qq{
		SELECT d.datdba::regrole || ' | ' || coalesce(d.datacl::text, '<default>') || ' | '
		  || coalesce((SELECT string_agg(coalesce(s.setrole::regrole::text, '-') || ':' || array_to_string(s.setconfig, ','), '; '
		                        ORDER BY s.setrole)
		                 FROM pg_db_role_setting s WHERE s.setdatabase = d.oid), '<none>')
		  || ' | ' || coalesce(shobj_description(d.oid, 'pg_database'), '<none>')
		  FROM pg_database d WHERE d.datname = '$lit'});
}

sub restore {
	my (@extra) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ $cli, 'restore', $id, '--destination', "file://$dir", '--create',
		'--host', $node->host, '--port', $node->port, @extra ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

my $orig = props('Shop DB');
like($orig, qr/^app_owner \| \{.*reader=c\/app_owner.*\} \| /, 'the original: owner app_owner, CONNECT for reader');

# into another name: the statements are renamed to the target
my ($rc, $out, $err) = restore('--dbname', 'shop copy');
is($rc, 0, 'restore --create into "shop copy"') or diag $err;
like($err, qr/database "shop copy": \d+ owner, privilege and setting statements of the backup applied/,
	'the CLI says it applied them');
my $copy = props('shop copy');
my ($o_owner, $o_acl, $o_set, $o_comment) = split / \| /, $orig;
my ($c_owner, $c_acl, $c_set, $c_comment) = split / \| /, $copy;
is($c_owner, 'app_owner', 'owner restored');
is($c_acl, $o_acl =~ s/"?Shop DB"?//gr, 'ACL restored (no CONNECT for PUBLIC, CONNECT for reader)');
unlike($c_acl, qr/(^|[{,])=[^,}]*c/, 'PUBLIC has no CONNECT on the copy');
is($c_set, '-:work_mem=8MB,search_path=shop, public; reader:statement_timeout=5s', 'database and role-in-database settings restored');
is($c_set, $o_set, 'the same settings as the original');
is($c_comment, 'the shop', 'comment restored');
is(props('Shop DB'), $orig, 'the original database is untouched');
is($node->safe_psql('shop copy', 'SELECT count(*) FROM items'), '777', 'the data is there');

# --no-owner --no-privileges: owned by the connecting user, default ACL; settings kept
($rc, $out, $err) = restore('--dbname', 'shop_plain', '--no-owner', '--no-privileges');
is($rc, 0, 'restore --create --no-owner --no-privileges') or diag $err;
my ($p_owner, $p_acl, $p_set) = split / \| /, props('shop_plain');
is($p_owner, scalar(getpwuid($<)), '--no-owner: the connecting user owns it');
is($p_acl, '<default>', '--no-privileges: the default ACL');
is($p_set, $o_set, 'the settings are restored all the same');

# an archive is not trusted: its database's owner wrote the comment, and a comment
# of several lines whose lines look like statements (as pg_dump writes it: one
# literal over several lines) is restored as that comment, never run as SQL by the
# restoring superuser
$node->safe_psql('postgres', q{
	CREATE ROLE mallory LOGIN;
	CREATE DATABASE evil OWNER mallory;
});
my $payload = "first line\nALTER ROLE mallory SUPERUSER; -- DATABASE evil;\n"
	. "GRANT pg_execute_server_program TO mallory; SELECT 'DATABASE evil' AS x;\nlast";
my $payload_lit = $payload =~ s/'/''/gr;
$node->safe_psql('evil', "COMMENT ON DATABASE evil IS '$payload_lit'", extra_params => [ '-U', 'mallory' ]);
my $evil_id = RippleTest::Cluster::backup_now($node, 'evil');
is(RippleTest::Cluster::wait_backup($node, $evil_id), 'succeeded', 'backup of "evil"');
{
	my ($o, $e) = ('', '');
	IPC::Run::run([ $cli, 'restore', $evil_id, '--destination', "file://$dir", '--create', '--dbname', 'evil_copy',
		'--host', $node->host, '--port', $node->port ], '<', \undef, '>', \$o, '2>', \$e);
	is($? >> 8, 0, 'restore --create of a database with a comment of several lines') or diag $e;
	is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'}), 'f',
		'the comment\'s "ALTER ROLE mallory SUPERUSER" line was not run');
	is($node->safe_psql('postgres', q{SELECT pg_has_role('mallory', 'pg_execute_server_program', 'MEMBER')}), 'f',
		'nor its GRANT line');
	is($node->safe_psql('postgres', q{SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = 'evil_copy'}),
		$payload, 'the comment is restored whole');
}

# a comment longer than one command-line argument may be (128 KiB on Linux) is
# restored too: the statements are not passed in psql's argv
$node->safe_psql('postgres', 'CREATE DATABASE long_comment');
my $long = join("\n", map { "line $_ " . ('x' x 60) } 1 .. 3000);
$node->safe_psql('postgres', "COMMENT ON DATABASE long_comment IS '$long'");
my $long_id = RippleTest::Cluster::backup_now($node, 'long_comment');
is(RippleTest::Cluster::wait_backup($node, $long_id), 'succeeded', 'backup of "long_comment"');
{
	my ($o, $e) = ('', '');
	IPC::Run::run([ $cli, 'restore', $long_id, '--destination', "file://$dir", '--create', '--dbname', 'long_copy',
		'--host', $node->host, '--port', $node->port ], '<', \undef, '>', \$o, '2>', \$e);
	is($? >> 8, 0, sprintf('restore --create of a database with a %d-byte comment', length $long)) or diag $e;
	is($node->safe_psql('postgres', q{SELECT md5(shobj_description(oid, 'pg_database')) FROM pg_database WHERE datname = 'long_copy'}),
		$node->safe_psql('postgres', "SELECT md5('$long')"), 'the long comment is restored whole');
}

# psql in a locale of another encoding must not read the archive's UTF-8 text in
# it: in SJIS (0x81 0x5C is one character) the bytes of "ā\" would end an E''
# string early (the server refuses the \' as unsafe, so before the archive's
# encoding was sent first the statements failed), and in LATIN1 every non-ASCII
# character became two
$node->safe_psql('postgres', "CREATE DATABASE sjis_trap OWNER mallory ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
$node->safe_psql('postgres', "CREATE DATABASE maint_utf8 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
my $trap = "\x{101}\\';ALTER ROLE mallory SUPERUSER;--";
my $trap_lit = $trap =~ s/'/''/gr;
{
	my $trap_sql = "COMMENT ON DATABASE sjis_trap IS '$trap_lit'";
	utf8::encode($trap_sql);
	$node->safe_psql('sjis_trap', $trap_sql, extra_params => [ '-U', 'mallory' ]);
}
my $trap_id = RippleTest::Cluster::backup_now($node, 'sjis_trap');
is(RippleTest::Cluster::wait_backup($node, $trap_id), 'succeeded', 'backup of "sjis_trap"');
{
	my ($o, $e) = ('', '');
	{
		local $ENV{PGCLIENTENCODING} = 'SJIS';
		IPC::Run::run([ $cli, 'restore', $trap_id, '--destination', "file://$dir", '--create', '--dbname', 'sjis_copy',
			'--maintenance-db', 'maint_utf8', '--host', $node->host, '--port', $node->port ], '<', \undef, '>', \$o, '2>', \$e);
	}
	is($? >> 8, 0, 'restore --create with PGCLIENTENCODING=SJIS') or diag $e;
	is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'}), 'f',
		'the comment\'s bytes did not end its string in psql');
	my $got = $node->safe_psql('postgres', q{SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = 'sjis_copy'});
	my $want = $trap;
	utf8::encode($want);
	is($got, $want, 'the comment is restored whole');
}
{
	my ($o, $e) = ('', '');
	{
		local $ENV{PGCLIENTENCODING} = 'LATIN1';
		IPC::Run::run([ $cli, 'restore', $trap_id, '--destination', "file://$dir", '--create', '--dbname', 'latin1_copy',
			'--maintenance-db', 'maint_utf8', '--host', $node->host, '--port', $node->port ], '<', \undef, '>', \$o, '2>', \$e);
	}
	is($? >> 8, 0, 'restore --create with PGCLIENTENCODING=LATIN1') or diag $e;
	my $want = $trap;
	utf8::encode($want);
	is($node->safe_psql('postgres', q{SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = 'latin1_copy'}),
		$want, 'the comment is restored byte for byte');
}

# the same name on a fresh server (the complete-loss case), roles created first
my $new = PostgreSQL::Test::Cluster->new('fresh');
$new->init;
$new->start;
$new->safe_psql('postgres', 'CREATE ROLE app_owner NOLOGIN; CREATE ROLE reader NOLOGIN');
{
	my ($o, $e) = ('', '');
	IPC::Run::run([ $cli, 'restore', $id, '--destination', "file://$dir", '--create', '--dbname', 'Shop DB',
		'--host', $new->host, '--port', $new->port ], '<', \undef, '>', \$o, '2>', \$e);
	is($? >> 8, 0, 'restore --create under the same name on a fresh server') or diag $e;
	is($new->safe_psql('postgres', q{
		SELECT datdba::regrole || ' | ' || datacl::text FROM pg_database WHERE datname = 'Shop DB'}),
		"$o_owner | $o_acl", 'same owner and ACL as the original');
}
$new->stop;

done_testing();

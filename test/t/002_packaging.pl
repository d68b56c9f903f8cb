# 002_packaging.pl — what a PostgreSQL user gets from the source tree: one version
# (default_version in ripple_backup.control) in META.json, the install script's name,
# the generated version.h and CHANGELOG.md; META.json is valid PGXN metadata
# (meta-spec 1.0.0); LICENSE is the PostgreSQL Licence; and the product build
# (`make all install`, shown with make -n -B) compiles only the extension, src/core
# and the CLI, installs the CLI into pg_config's bindir, and never calls clang or
# links cmocka.
use strict;
use warnings;
use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = $ENV{RIPPLE_SRC} or die "RIPPLE_SRC is not set";

my ($version) = slurp_file("$src/ripple_backup.control") =~ /^default_version = '([^']+)'$/m;
like($version // '', qr/^\d+\.\d+\.\d+$/, 'ripple_backup.control has a default_version');

# --- META.json --------------------------------------------------------------------
my $meta = eval { decode_json(slurp_file("$src/META.json")) };
ok($meta, 'META.json is valid JSON') or diag $@;
$meta //= {};
is($meta->{'meta-spec'}{version}, '1.0.0', 'META.json follows PGXN meta-spec 1.0.0');
is($meta->{name}, 'ripple_backup', 'META.json names the extension');
is($meta->{version}, $version, 'META.json version = default_version');
is($meta->{provides}{ripple_backup}{version}, $version,
	'META.json provides ripple_backup at default_version');
is($meta->{provides}{ripple_backup}{file}, "sql/ripple_backup--$version.sql",
	'META.json names the install script of that version');
ok(-f "$src/sql/ripple_backup--$version.sql", 'that install script exists');
is($meta->{license}, 'postgresql', 'META.json: the PostgreSQL licence');
ok(length($meta->{abstract} // '') > 0, 'META.json has an abstract');
ok(ref $meta->{maintainer} eq 'ARRAY' && @{ $meta->{maintainer} }, 'META.json has a maintainer');
like($meta->{release_status} // 'stable', qr/^(stable|testing|unstable)$/, 'META.json release_status');

# --- LICENSE, CHANGELOG.md, version.h --------------------------------------------------
my $licence = slurp_file("$src/LICENSE");
like($licence, qr/\APostgreSQL License\n/, 'LICENSE is the PostgreSQL Licence');
like($licence, qr/Copyright \(c\) \d{4}, ripple_backup developers/, '... of ripple_backup developers');
like($licence, qr/WITHOUT FEE, AND WITHOUT A WRITTEN AGREEMENT/i, '... with its grant');
like(slurp_file("$src/CHANGELOG.md"), qr/^## \Q$version\E\b/m, 'CHANGELOG.md has an entry for it');
like(slurp_file("$src/build/include/version.h"), qr/^#define RB_EXTENSION_VERSION "\Q$version\E"$/m,
	'the generated version.h has it');
ok(!-e "$src/src/backend/version.h", 'no hand-written version.h');

# --- the product build -------------------------------------------------------------------
my $bindir = `pg_config --bindir`;
chomp $bindir;
my ($out, $err) = run_command([ 'make', '-C', $src, '-n', '-B', 'all', 'install',
		'DESTDIR=/nonexistent' ]);
like($out, qr/libripple_core\.a/, 'make all builds the core library');
like($out, qr/-o src\/cli\/ripple-backup /, '... and the CLI');
like($out, qr/ripple_backup\.so/, '... and the extension');
like($out, qr{install -D -m 755 src/cli/ripple-backup '/nonexistent\Q$bindir\E/ripple-backup'},
	'make install puts the CLI into pg_config --bindir');
unlike($out, qr{/usr/local/bin}, '... and nowhere else');
unlike($out, qr/cmocka/, 'the product build does not use cmocka');
unlike($out, qr/\bclang/, 'the product build does not call clang');
unlike($out, qr{test/(unit|tools|fuzz)/}, 'the product build builds no test program');
is($err, '', 'make -n all install reports nothing on stderr');

# the test programs have their targets (and do use cmocka)
($out, $err) = run_command([ 'make', '-C', $src, '-n', '-B', 'unit-tests', 'tools' ]);
like($out, qr/-lcmocka/, 'make unit-tests links cmocka');
like($out, qr{build/tools/backup_run}, 'make tools builds the test tools');

done_testing();

# 026_archive_metadata_fuzz.pl — runs the libFuzzer harnesses of the two readers a
# backup depends on for its truth: the streaming reader of pg_dump's custom format
# (test/fuzz/pgdump_archive_fuzz.c: no crash, and the same outcome however the bytes
# are chunked) and the metadata JSON reader (test/fuzz/metadata_json_fuzz.c), each for
# a bounded time from a committed seed corpus, and asserts a clean end: exit 0, no
# sanitizer report, no crash artifact, and a real number of executions.
use strict;
use warnings;
use File::Temp qw(tempdir);
use IPC::Run qw(run);
use Test::More;

my $src = $ENV{RIPPLE_SRC} // '.';
my $secs = 25;

for my $name (qw(pgdump_archive metadata_json)) {
	my $bin = "$src/build/fuzz/${name}_fuzz";
	my $seeds = "$src/test/fuzz/corpus_$name";
	ok(-x $bin, "the $name fuzzer is built") or next;
	my @seed_files = glob("$seeds/*");
	cmp_ok(scalar(@seed_files), '>=', 2, "the $name seed corpus is there");

	my $dir = tempdir(CLEANUP => 1);
	mkdir "$dir/corpus" or die "mkdir: $!";
	my @cmd = ($bin, "-max_total_time=$secs", '-timeout=5', '-rss_limit_mb=2048',
		"-artifact_prefix=$dir/", '-print_final_stats=1', "$dir/corpus", $seeds);
	my $out = '';
	run(\@cmd, '<', \undef, '>&', \$out);
	my $rc = $? >> 8;

	is($rc, 0, "the $name fuzzer exits 0") or diag(substr($out, -4000));
	unlike($out, qr/(==\d+==ERROR|deadly signal|runtime error|SUMMARY: )/,
		"$name: no crash, sanitizer report or broken invariant");
	my @artifacts = glob("$dir/crash-* $dir/timeout-* $dir/oom-* $dir/leak-*");
	is(scalar(@artifacts), 0, "$name: no crash artifact was written") or diag(join("\n", @artifacts));
	my ($runs) = $out =~ /Done (\d+) runs in/;
	ok(defined $runs && $runs > 100, "$name: the fuzzer ran many inputs") or diag(substr($out, -2000));
	note("${name}_fuzz: " . ($runs // 'no') . " executions in $secs s");
}

done_testing();

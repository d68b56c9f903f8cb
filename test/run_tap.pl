#!/usr/bin/perl
# One TAP harness for every test of ripple_backup:
#   build/unit/test_*       cmocka unit tests of src/core, run under valgrind
#   build/unit-asan/test_*  the same tests built with AddressSanitizer + UBSan
#   test/t/*.pl             TAP tests against real PostgreSQL, S3 and SMTP servers
# With arguments, runs only those.  Prints "N passed, N failed" (assertions; a test
# file that dies or exits non-zero counts as one more failure) and exits non-zero
# when anything failed.
use strict;
use warnings;
use TAP::Harness;

my @tests = @ARGV;
if (!@tests) {
	push @tests, sort glob('build/unit/test_*');
	push @tests, sort glob('build/unit-asan/test_*');
	push @tests, sort glob('test/t/*.pl');
}
@tests = grep { !/\.(o|d|dSYM)$/ } @tests;

$ENV{CMOCKA_MESSAGE_OUTPUT} = 'TAP';
$ENV{ASAN_OPTIONS} = 'detect_leaks=1:abort_on_error=0:exitcode=91';
$ENV{UBSAN_OPTIONS} = 'print_stacktrace=1:halt_on_error=1:exitcode=92';

my @valgrind = (
	'valgrind', '-q', '--error-exitcode=90', '--leak-check=full',
	'--errors-for-leak-kinds=definite,indirect', '--show-leak-kinds=definite,indirect',
	'--track-fds=no');

my $harness = TAP::Harness->new({
	verbosity => ($ENV{TEST_VERBOSE} ? 1 : 0),
	timer     => 1,
	color     => 0,
	failures  => 1,
	comments  => 1,    # cmocka prints why an assertion failed as a TAP comment
	exec      => sub {
		my ($h, $file) = @_;
		return [ 'perl', $file ] if $file =~ /\.pl$/;
		return [ @valgrind, $file ] if $file =~ m{(^|/)unit/};
		return [ $file ];
	},
});
my $agg = $harness->runtests(@tests);

my $skipped = scalar($agg->skipped);
my $passed = scalar($agg->passed) - $skipped;    # a skipped test is not a pass
my $failed = scalar($agg->failed);
for my $file ($agg->descriptions) {
	my ($parser) = $agg->parsers($file);
	next unless $parser;
	# A script that died, exited non-zero or broke its plan is one more failure even
	# when each assertion it printed passed.
	$failed++ if (($parser->exit || $parser->wait) && !$parser->failed)
	  || $parser->parse_errors;
}
print "$passed passed, $failed failed" . ($skipped ? ", $skipped skipped" : '') . "\n";
exit($failed ? 1 : 0);

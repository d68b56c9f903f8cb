# RippleTest::MailServer — starts and stops the SMTP test server (npm maildev, in
# test/services) for TAP tests, on free ports for SMTP and for its HTTP API, and
# reads what arrived through that API (GET /email, DELETE /email/all).
#
#   my $mail = RippleTest::MailServer->new;                       # plain SMTP
#   my $mail = RippleTest::MailServer->new(user => 'u', password => 'p');  # AUTH required
#   my $mail = RippleTest::MailServer->new(tls_key => $k, tls_cert => $c); # SMTPS
#   $mail->smtp_url;       # smtp://127.0.0.1:PORT (smtps:// with a key and cert)
#   my @msgs = $mail->messages;   # decoded JSON: subject, text, headers, to, from, ...
#   $mail->wait_messages(2);      # waits (10 s at most) until 2 have arrived
#   $mail->clear;
#
# maildev offers no STARTTLS on plain SMTP, which is what a test of "STARTTLS is
# required" needs; with a key and cert it speaks TLS from the first byte (SMTPS).
package RippleTest::MailServer;

use strict;
use warnings;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IPC::Run ();
use JSON::PP ();
use Time::HiRes qw(usleep time);

use RippleTest::S3Server ();

sub new {
	my ($class, %opt) = @_;
	my $self = bless {
		smtp_port => $opt{smtp_port} // RippleTest::S3Server::free_port(),
		http_port => $opt{http_port} // RippleTest::S3Server::free_port(),
		user      => $opt{user},
		password  => $opt{password},
		tls_key   => $opt{tls_key},
		tls_cert  => $opt{tls_cert},
		log       => $opt{log},
	}, $class;
	$self->{http_port} = RippleTest::S3Server::free_port()
	  while $self->{http_port} == $self->{smtp_port};
	$self->{log} //= tempdir('maildev_XXXX', TMPDIR => 1, CLEANUP => 1) . '/maildev.log';
	$self->start unless $opt{no_start};
	return $self;
}

sub smtp_port { $_[0]{smtp_port} }
sub http_port { $_[0]{http_port} }
sub smtp_url {
	my ($self) = @_;
	return ($self->{tls_key} ? 'smtps' : 'smtp') . '://127.0.0.1:' . $self->{smtp_port};
}
sub log_file { $_[0]{log} }

sub _script {
	my $src = $ENV{RIPPLE_SRC} // '.';
	return "$src/test/services/node_modules/maildev/bin/maildev";
}

sub _port_open {
	my ($port) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp');
	return 0 unless $s;
	close $s;
	return 1;
}

sub _log_says {
	my ($log, $text) = @_;
	open my $fh, '<', $log or return 0;
	local $/;
	my $all = <$fh> // '';
	close $fh;
	return index($all, $text) >= 0;
}

# Starts maildev and waits until both ports accept connections (15 s at most).
sub start {
	my ($self) = @_;
	die "mail server already running" if $self->{h};
	my @cmd = ('node', _script(), '--ip', '127.0.0.1', '--smtp', $self->{smtp_port},
		'--web', $self->{http_port}, '--web-ip', '127.0.0.1');
	push @cmd, '--incoming-user', $self->{user}, '--incoming-pass', $self->{password}
	  if defined $self->{user};
	push @cmd, '--incoming-secure', '--incoming-key', $self->{tls_key},
	  '--incoming-cert', $self->{tls_cert}
	  if $self->{tls_key};
	$self->{h} = IPC::Run::start(\@cmd, '<', \undef, '>>', $self->{log}, '2>>', $self->{log});
	# A TCP probe that closes without a TLS handshake makes maildev 2.2.1 exit, so an
	# SMTPS server is ready when its log says so.
	my $deadline = time + 15;
	while (time < $deadline) {
		my $smtp_up = $self->{tls_key} ? _log_says($self->{log}, 'SMTP Server running')
		  : _port_open($self->{smtp_port});
		return $self if $smtp_up && _port_open($self->{http_port});
		usleep(100_000);
	}
	die "maildev did not start on ports $self->{smtp_port}/$self->{http_port}; see $self->{log}";
}

sub stop {
	my ($self) = @_;
	return unless $self->{h};
	$self->{h}->signal('KILL');
	eval { $self->{h}->finish };
	delete $self->{h};
}

# One HTTP request to the API with a plain socket; returns (status, body).
sub _http {
	my ($self, $method, $path) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{http_port},
		Proto => 'tcp', Timeout => 10)
	  or die "cannot connect to maildev's API: $!";
	print $s "$method $path HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
	local $/;
	my $resp = <$s> // '';
	close $s;
	my ($head, $body) = split /\r\n\r\n/, $resp, 2;
	my ($status) = ($head // '') =~ m{^HTTP/\S+\s+(\d+)};
	return ($status // 0, $body // '');
}

# The messages that arrived, oldest first, as decoded JSON objects.
sub messages {
	my ($self) = @_;
	my ($status, $body) = $self->_http('GET', '/email');
	die "GET /email answered $status" unless $status == 200;
	return @{ JSON::PP->new->utf8->decode($body) };
}

# Waits until at least $n messages have arrived (10 s at most); returns them.
sub wait_messages {
	my ($self, $n) = @_;
	my $deadline = time + 10;
	my @m;
	while (time < $deadline) {
		@m = $self->messages;
		return @m if @m >= $n;
		usleep(100_000);
	}
	return @m;
}

sub clear {
	my ($self) = @_;
	my ($status) = $self->_http('DELETE', '/email/all');
	die "DELETE /email/all answered $status" unless $status == 200;
}

sub DESTROY { $_[0]->stop if $_[0]{h}; }

1;

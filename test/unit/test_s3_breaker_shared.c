/*
 * test_s3_breaker_shared.c — the circuit breaker shared by processes, as the
 * extension shares it in shared memory: one rb_breaker in a MAP_SHARED mapping,
 * used under a lock the host provides (a process-shared mutex through the S3
 * client's lock callbacks).  When the open interval is over and several processes
 * ask at once, exactly one gets the half-open trial and the others are refused;
 * through the S3 client, several processes' requests to a refusing endpoint make
 * exactly one real attempt (the trial) while the others fail fast naming the
 * breaker, and the lock callbacks are never nested.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "s3/s3_breaker.h"
#include "s3/s3_client.h"
#include "s3/s3_credentials.h"
#include "s3/s3_retry.h"

#define NPROC 6

typedef struct shared
{
	pthread_mutex_t mutex;
	volatile int go;			/* the children start together */
	volatile int held;			/* 1 while a process holds the lock */
	volatile int nested;		/* a lock taken while held: a bug */
	rb_breaker	breaker;
} shared;

static shared *
shared_new(void)
{
	shared	   *s = mmap(NULL, sizeof(shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_mutexattr_t a;

	assert_true(s != MAP_FAILED);
	memset(s, 0, sizeof(*s));
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&s->mutex, &a);
	pthread_mutexattr_destroy(&a);
	return s;
}

static void
lock_cb(void *arg)
{
	shared	   *s = arg;

	pthread_mutex_lock(&s->mutex);
	if (s->held)
		s->nested = 1;
	s->held = 1;
}

static void
unlock_cb(void *arg)
{
	shared	   *s = arg;

	s->held = 0;
	pthread_mutex_unlock(&s->mutex);
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
wait_go(shared *s)
{
	while (!s->go)
		usleep(100);
}

/* Forks NPROC children running fn; returns how many exited with status 1. */
static int
run_children(shared *s, int (*fn) (shared *))
{
	pid_t		pids[NPROC];
	int			ones = 0;

	for (int i = 0; i < NPROC; i++)
	{
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
		{
			wait_go(s);
			_exit(fn(s));
		}
	}
	usleep(50 * 1000);
	s->go = 1;
	for (int i = 0; i < NPROC; i++)
	{
		int			st;

		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		assert_true(WEXITSTATUS(st) <= 1);
		ones += WEXITSTATUS(st) == 1;
	}
	return ones;
}

static int
ask(shared *s)
{
	bool		ok;

	lock_cb(s);
	ok = rb_breaker_allow(&s->breaker, mono_ms());
	unlock_cb(s);
	return ok ? 1 : 0;
}

/* The open interval is over: of NPROC processes asking at once, one is the trial. */
static void
test_one_trial_across_processes(void **state)
{
	shared	   *s = shared_new();
	int64_t		now = mono_ms();

	rb_breaker_init(&s->breaker, 1, 500);
	rb_breaker_record_failure(&s->breaker, now - 1000);
	assert_int_equal(s->breaker.state, RB_BREAKER_OPEN);
	assert_int_equal(run_children(s, ask), 1);
	assert_int_equal(s->breaker.state, RB_BREAKER_HALF_OPEN);
	assert_int_equal(s->breaker.trial_in_flight, 1);
	assert_true(s->breaker.rejected == NPROC - 1);
	assert_int_equal(s->nested, 0);
	munmap(s, sizeof(*s));
}

static rb_aws_credentials cred;

/* One HEAD through a client of its own sharing the breaker: 1 = a real attempt. */
static int
head_through_client(shared *s)
{
	rb_s3_options opt;
	rb_retry_policy retry = rb_retry_policy_default();
	rb_s3_client *c;
	rb_s3_object_info info;
	rb_error	err;
	int			rc;

	memset(&opt, 0, sizeof(opt));
	opt.endpoint = "http://127.0.0.1:9";	/* discard port: connection refused */
	opt.bucket = "bucket";
	opt.credentials = &cred;
	retry.max_attempts = 1;
	opt.retry = &retry;
	opt.breaker = &s->breaker;
	opt.breaker_lock = lock_cb;
	opt.breaker_unlock = unlock_cb;
	opt.breaker_lock_arg = s;
	rb_error_clear(&err);
	c = rb_s3_client_new(&opt, NULL, &err);
	if (c == NULL)
		return 2;
	rc = rb_s3_head_object(c, "k", &info, &err);
	rb_s3_client_free(c);
	if (rc == 0)
		return 2;
	if (err.code == RB_ERR_CIRCUIT_OPEN)
		return strstr(err.msg, "circuit breaker open") ? 0 : 2;
	return 1;
}

/*
 * Through the S3 client and its lock callbacks: the breaker's interval is over,
 * NPROC processes send a request each; one is the trial (a real attempt, refused),
 * which opens the breaker again; the others waited for it or came after it and
 * failed fast.
 */
static void
test_client_processes_share_the_trial(void **state)
{
	shared	   *s = shared_new();
	rb_error	err;

	rb_error_clear(&err);
	assert_int_equal(rb_aws_credentials_set(&cred, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
											NULL, NULL, &err), 0);
	rb_breaker_init(&s->breaker, 1, 60000);
	rb_breaker_record_failure(&s->breaker, mono_ms() - 61000);
	assert_int_equal(s->breaker.state, RB_BREAKER_OPEN);
	assert_int_equal(run_children(s, head_through_client), 1);
	assert_int_equal(s->breaker.state, RB_BREAKER_OPEN);	/* the trial failed */
	assert_true(s->breaker.times_opened == 2);
	assert_true(s->breaker.total_failures == 2);
	assert_int_equal(s->nested, 0);
	assert_int_equal(s->held, 0);
	munmap(s, sizeof(*s));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_trial_across_processes),
		cmocka_unit_test(test_client_processes_share_the_trial),
	};

	return cmocka_run_group_tests_name("s3_breaker_shared", tests, NULL, NULL);
}

/* test-supervise.c - stream-run's supervisor as its table says: what each
 * event does in each state, and the state after it. */
#include "tap.h"
#include "supervise.h"

#define IGNORED(s, ev) (sk_supervise_action(s, ev) == NULL && sk_supervise_next(s, ev) == (int)(s))

int main(void)
{
	int s, ev, ignored = 1;

	is_int(sk_supervise_next(SK_SV_RUNNING, SK_SV_LEADER_EXITED), SK_SV_ENDING,
	       "the leader exits with processes left: the rest of the group is stopped");
	is_str(sk_supervise_action(SK_SV_RUNNING, SK_SV_LEADER_EXITED), "stop the rest of the group", "so it says");
	ok(IGNORED(SK_SV_RUNNING, SK_SV_REAPED) && IGNORED(SK_SV_ENDING, SK_SV_REAPED),
	   "other processes reaped while the attempt goes on change nothing");
	for (s = SK_SV_RUNNING; s <= SK_SV_KILLING; s++)
		is_int(sk_supervise_next(s, SK_SV_ALL_GONE), SK_SV_DECIDED,
		       "state %d: nothing left of the attempt: the policy decides", s);
	is_int(sk_supervise_next(SK_SV_RUNNING, SK_SV_KILL_TIMER), SK_SV_KILLING, "the stop timeout: SIGKILL");
	is_int(sk_supervise_next(SK_SV_ENDING, SK_SV_KILL_TIMER), SK_SV_KILLING, "also for what outlives the leader");
	ok(IGNORED(SK_SV_KILLING, SK_SV_KILL_TIMER), "killing, there is no second deadline");
	is_str(sk_supervise_action(SK_SV_KILLING, SK_SV_REAPED), "kill what is left",
	       "killing, whatever is left when a process ends is killed too");
	for (s = SK_SV_RUNNING; s <= SK_SV_KILLING; s++) {
		is_str(sk_supervise_action(s, SK_SV_STOP), "stop the group", "state %d: a stop signal stops the group", s);
		is_int(sk_supervise_next(s, SK_SV_STOP), s, "state %d: and waits for it to end", s);
		is_str(sk_supervise_action(s, SK_SV_HUP), "pass the signal on", "state %d: SIGHUP is passed on", s);
	}
	is_int(sk_supervise_next(SK_SV_WAITING, SK_SV_STOP), SK_SV_DECIDED, "a stop while waiting ends it");
	is_str(sk_supervise_action(SK_SV_WAITING, SK_SV_HUP), "restart now", "SIGHUP while waiting restarts now");
	ok(IGNORED(SK_SV_WAITING, SK_SV_PASS), "SIGUSR1 while waiting goes nowhere");
	is_int(sk_supervise_next(SK_SV_WAITING, SK_SV_RESTART_TIMER), SK_SV_RUNNING, "the delay over: the next attempt");
	ok(IGNORED(SK_SV_RUNNING, SK_SV_RESTART_TIMER), "no restart while an attempt runs");
	is_str(sk_supervise_action(SK_SV_RUNNING, SK_SV_STALL_TIMER), "check the checkpoint's progress",
	       "the stall watchdog looks while the leader runs");
	ok(IGNORED(SK_SV_ENDING, SK_SV_STALL_TIMER) && IGNORED(SK_SV_WAITING, SK_SV_STALL_TIMER),
	   "and only then");
	for (ev = 0; ev < SK_SV_NEVENTS; ev++)
		ignored &= IGNORED(SK_SV_DONE, ev);
	ok(ignored, "done, every event is ignored");
	return tap_done();
}

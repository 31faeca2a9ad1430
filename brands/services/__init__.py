"""Writes of the brand side, one module per sub-domain; callers import the module they need
(`from brands.services import program`, then `program.membership_suspend(...)`):

- `invitations`: inviting someone to a brand's team, and the invitee accepting (or signing up);
- `team`: the members' roles and removals (a brand always keeps an active owner);
- `rights`: the IP rights registry (registration details, retirement, documents);
- `verification`: marketplace staff verifying or refusing a right, and a refused right resubmitted;
- `program`: the MarketSafe program's state machines, its memberships (suspend, reinstate) and the
  e-mails the brand receives about its place in the program;
- `applications`: applying to the program and the association's review (start, ask, approve, reject);
- `monitoring`: the nightly check of every membership (lapse, renewal reminders, accuracy warnings).

Every service takes keyword arguments only, runs in one transaction and records an audit event, with the
brand's id, in that transaction. Who may call a service (an owner: `Capability.MANAGE`; a reviewer) is
checked by the views and the admin; the rules that hold whoever calls are checked here. Invalid input is
refused with Django's `ValidationError`; a move the object's status does not allow with
`core.errors.TransitionNotAllowed`, other refusals by state with `core.errors.Conflict`.
"""

"""A CalDAV scenario run by TestPyCaldav with Debian's python3-caldav (0.11).

Usage: /usr/bin/python3 caldav_scenario.py URL USERNAME PASSWORD

URL is the bare server URL (e.g. http://127.0.0.1:8008/). Every step asserts;
the first failure prints the step, what was expected and what came back, and
the script exits with status 1. Status 0 means every step passed.
"""

import base64
import sys
import urllib.error
import urllib.request
from datetime import datetime, timezone
from urllib.parse import unquote, urljoin, urlparse
from xml.etree import ElementTree

import caldav
from caldav.elements import dav
from caldav.lib import error

STEP = "start"


class Failure(Exception):
    """One failed assertion."""


def step(name):
    """Record the name of the step that runs now, for failure messages."""
    global STEP
    STEP = name
    print("step:", name, flush=True)


def check(ok, message):
    """Fail the current step with message unless ok."""
    if not ok:
        raise Failure(message)


def equal(got, want, what):
    """Fail the current step unless got == want."""
    check(got == want, "%s: got %r, want %r" % (what, got, want))


def path_of(url):
    """Return the percent-decoded path of a URL or caldav URL object."""
    return unquote(urlparse(str(url)).path)


def paths(objects):
    """Return the set of decoded paths of caldav objects."""
    return {path_of(o.url) for o in objects}


def utc(*args):
    """Return an aware UTC datetime."""
    return datetime(*args, tzinfo=timezone.utc)


def crlf(text):
    """Turn a readable multi-line literal into iCalendar's CRLF lines."""
    return text.lstrip("\n").replace("\n", "\r\n")


class Raw:
    """Plain HTTP requests with Basic auth, for what the library cannot send."""

    def __init__(self, base, user, password):
        self.base = base
        token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        self.auth = "Basic " + token

    def request(self, method, path, body=None, headers=None):
        """Send one request; return (status, headers, body bytes)."""
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(urljoin(self.base, path), data=data, method=method)
        req.add_header("Authorization", self.auth)
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()


def describe(method, path, headers, status, resp_headers, body):
    """Format an HTTP exchange for a failure message."""
    return "%s %s %r -> %d %s\n%s" % (
        method, path, headers, status, dict(resp_headers or {}), body[:600])


VTIMEZONE_BERLIN = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""

# An event in a named time zone with its VTIMEZONE; inside the search range.
BERLIN = crlf("""
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Coffer tests//python-caldav scenario//EN
""" + VTIMEZONE_BERLIN + """BEGIN:VEVENT
UID:berlin-planning@coffer.test
DTSTAMP:20270101T090000Z
DTSTART;TZID=Europe/Berlin:20270115T100000
DTEND;TZID=Europe/Berlin:20270115T110000
SUMMARY:Planning in Berlin
LOCATION:Room 1\\, Floor 2
END:VEVENT
END:VCALENDAR
""")

# A weekly event from 2027-01-04 (before the search range) with ten
# occurrences, and an override that moves the 2027-01-18 one to the 19th.
STANDUP = crlf("""
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Coffer tests//python-caldav scenario//EN
BEGIN:VEVENT
UID:standup@coffer.test
DTSTAMP:20270101T090000Z
DTSTART:20270104T090000Z
DTEND:20270104T091500Z
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10
SUMMARY:Standup
END:VEVENT
BEGIN:VEVENT
UID:standup@coffer.test
DTSTAMP:20270101T090000Z
RECURRENCE-ID:20270118T090000Z
DTSTART:20270119T140000Z
DTEND:20270119T141500Z
SUMMARY:Standup (moved)
END:VEVENT
END:VCALENDAR
""")

# An event in June 2027, outside the January search range.
SUMMER = crlf("""
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Coffer tests//python-caldav scenario//EN
BEGIN:VEVENT
UID:summer-party@coffer.test
DTSTAMP:20270101T090000Z
DTSTART:20270601T170000Z
DTEND:20270601T230000Z
SUMMARY:Summer party
END:VEVENT
END:VCALENDAR
""")

# An event as another client writes it, PUT raw: a folded line, an X-
# property and a VALARM, which must come back byte for byte.
RAW_EVENT = crlf("""
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Other client//EN
BEGIN:VEVENT
UID:raw-event@coffer.test
DTSTAMP:20270101T090000Z
DTSTART;VALUE=DATE:20270120
DTEND;VALUE=DATE:20270121
SUMMARY:All-day workshop
DESCRIPTION:A long description that is folded over more than one line by
  the client\\, as RFC 5545 allows.
X-COFFER-TEST;X-PARAM="quoted:value":kept as is
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:Reminder
TRIGGER:-PT30M
END:VALARM
END:VEVENT
END:VCALENDAR
""")

LATE = crlf("""
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Coffer tests//python-caldav scenario//EN
BEGIN:VEVENT
UID:late-addition@coffer.test
DTSTAMP:20270102T090000Z
DTSTART:20270128T120000Z
DTEND:20270128T130000Z
SUMMARY:Late addition
END:VEVENT
END:VCALENDAR
""")


def todo(uid, summary, extra):
    """Return a VTODO calendar with the given extra property lines."""
    return crlf("""
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Coffer tests//python-caldav scenario//EN
BEGIN:VTODO
UID:%s
DTSTAMP:20270101T090000Z
SUMMARY:%s
%sEND:VTODO
END:VCALENDAR
""" % (uid, summary, extra))


PARENT = todo("move-house@coffer.test", "Move house",
              "STATUS:NEEDS-ACTION\nDUE;VALUE=DATE:20270201\n")
CHILD = todo("pack-books@coffer.test", "Pack books",
             "STATUS:NEEDS-ACTION\nDUE;VALUE=DATE:20270120\n"
             "RELATED-TO;RELTYPE=PARENT:move-house@coffer.test\n")
DONE = todo("order-boxes@coffer.test", "Order boxes",
            "STATUS:COMPLETED\nCOMPLETED:20270105T120000Z\nPERCENT-COMPLETE:100\n")


def component(obj):
    """Return the first VEVENT or VTODO without RECURRENCE-ID of obj."""
    for comp in obj.icalendar_instance.walk():
        if comp.name in ("VEVENT", "VTODO") and "RECURRENCE-ID" not in comp:
            return comp
    raise Failure("%s has no master component" % obj.url)


def uids(objects):
    """Return the set of UIDs of caldav objects."""
    out = set()
    for obj in objects:
        for comp in obj.icalendar_instance.walk():
            if comp.name in ("VEVENT", "VTODO"):
                out.add(str(comp["UID"]))
    return out


def etag_of(obj):
    """Return the ETag the library recorded for obj on load."""
    return obj.props.get(dav.GetEtag.tag)


# The calendar-query python-caldav sends for date_search(expand=True).
EXPAND_QUERY = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><C:calendar-data><C:expand start="20270110T000000Z" end="20270201T000000Z"/></C:calendar-data></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range start="20270110T000000Z" end="20270201T000000Z"/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"""


def calendar_data(multistatus):
    """Return the CALDAV:calendar-data texts of a multistatus body, unfolded, with LF line ends."""
    root = ElementTree.fromstring(multistatus)
    out = []
    for elem in root.iter("{urn:ietf:params:xml:ns:caldav}calendar-data"):
        out.append((elem.text or "").replace("\r\n", "\n").replace("\n ", "").replace("\n\t", ""))
    return out


def run(url, user, password):
    """Run every step of the scenario against the server at url."""
    raw = Raw(url, user, password)
    client = caldav.DAVClient(url, username=user, password=password, timeout=60)

    step("discovery from the bare URL")
    principal = client.principal()
    equal(path_of(principal.url), "/dav/principals/%s/" % user, "principal URL")
    home = principal.calendar_home_set
    equal(path_of(home.url), "/dav/calendars/%s/" % user, "calendar-home-set")
    addresses = principal.calendar_user_address_set()
    check("mailto:%s@example.org" % user in [a.lower() for a in addresses],
          "calendar-user-address-set %r lacks mailto:%s@example.org" % (addresses, user))

    step("the default calendars are listed")
    defaults = {path_of(c.url): c for c in principal.calendars()}
    cal_path = "/dav/calendars/%s/calendar/" % user
    tasks_path = "/dav/calendars/%s/tasks/" % user
    equal(set(defaults), {cal_path, tasks_path}, "calendars in the home")
    equal(defaults[cal_path].get_supported_components(), ["VEVENT"], "components of calendar/")
    equal(defaults[tasks_path].get_supported_components(), ["VTODO"], "components of tasks/")

    step("MKCALENDAR: a calendar and a task list")
    work = principal.make_calendar(name="Work (python-caldav)", cal_id="work-py",
                                   supported_calendar_component_set=["VEVENT"])
    chores = principal.make_calendar(name="Chores", cal_id="chores-py",
                                     supported_calendar_component_set=["VTODO"])
    work_path = "/dav/calendars/%s/work-py/" % user
    chores_path = "/dav/calendars/%s/chores-py/" % user
    equal(path_of(work.url), work_path, "new calendar URL")
    listed = {path_of(c.url): c for c in principal.calendars()}
    equal(set(listed), {cal_path, tasks_path, work_path, chores_path}, "calendars after MKCALENDAR")
    equal(listed[work_path].get_display_name(), "Work (python-caldav)", "displayname of work-py")
    equal(listed[chores_path].get_display_name(), "Chores", "displayname of chores-py")
    equal(listed[work_path].get_supported_components(), ["VEVENT"], "components of work-py")
    equal(listed[chores_path].get_supported_components(), ["VTODO"], "components of chores-py")
    work.set_properties([dav.DisplayName("Work")])
    equal(work.get_display_name(), "Work", "displayname after PROPPATCH")

    step("save events: VTIMEZONE, RRULE with a RECURRENCE-ID override, out of range")
    berlin = work.save_event(BERLIN)
    standup = work.save_event(STANDUP)
    summer = work.save_event(SUMMER)
    equal(path_of(berlin.url), work_path + "berlin-planning@coffer.test.ics", "event URL")
    status, _, body = raw.request("PUT", work_path + "raw-event.ics", RAW_EVENT,
                                  {"Content-Type": "text/calendar", "If-None-Match": "*"})
    equal(status, 201, "raw PUT of a new event (%s)" % body[:300])
    raw_path = work_path + "raw-event.ics"

    step("fetch events back byte for byte and semantically")
    for obj in (berlin, standup, summer):
        sent = obj.wire_data
        status, headers, body = raw.request("GET", path_of(obj.url))
        equal(status, 200, "GET %s" % path_of(obj.url))
        check(body == sent, "GET %s is not what python-caldav PUT:\n%r\n%r" % (path_of(obj.url), body, sent))
        check(headers.get("ETag", "").startswith('"'), "GET %s: ETag %r is not strong" % (path_of(obj.url), headers.get("ETag")))
    status, _, body = raw.request("GET", raw_path)
    check(status == 200 and body == RAW_EVENT.encode(),
          "GET %s is not byte for byte the raw PUT:\n%r\n%r" % (raw_path, body, RAW_EVENT.encode()))

    fetched = work.calendar_multiget([berlin.url, standup.url, summer.url])
    equal({path_of(o.url): o.data for o in fetched},
          {path_of(o.url): o.data for o in (berlin, standup, summer)}, "calendar-multiget")

    loaded = work.event_by_url(berlin.url)
    comp = component(loaded)
    equal(str(comp["SUMMARY"]), "Planning in Berlin", "SUMMARY of berlin")
    equal(str(comp["LOCATION"]), "Room 1, Floor 2", "LOCATION of berlin")
    equal(comp["DTSTART"].params.get("TZID"), "Europe/Berlin", "TZID of DTSTART")
    equal(comp.decoded("DTSTART").utcoffset().total_seconds(), 3600.0, "UTC offset from the VTIMEZONE")
    check(any(c.name == "VTIMEZONE" for c in loaded.icalendar_instance.walk()), "VTIMEZONE was dropped")

    loaded = work.event_by_url(standup.url)
    events = [c for c in loaded.icalendar_instance.walk() if c.name == "VEVENT"]
    equal(len(events), 2, "VEVENTs in the recurring resource")
    master = component(loaded)
    equal(master["RRULE"].to_ical(), b"FREQ=WEEKLY;COUNT=10;BYDAY=MO", "RRULE")
    override = [c for c in events if "RECURRENCE-ID" in c][0]
    equal(override.decoded("RECURRENCE-ID"), utc(2027, 1, 18, 9), "RECURRENCE-ID")
    equal(str(override["SUMMARY"]), "Standup (moved)", "SUMMARY of the override")

    loaded = work.event_by_url(raw_path)
    comp = component(loaded)
    equal(str(comp["DESCRIPTION"]),
          "A long description that is folded over more than one line by the client, as RFC 5545 allows.",
          "unfolded DESCRIPTION of the raw event")
    equal(str(comp["X-COFFER-TEST"]), "kept as is", "X- property")

    step("an event is refused in a task list")
    headers = {"Content-Type": "text/calendar"}
    status, resp_headers, body = raw.request("PUT", chores_path + "late.ics", LATE, headers)
    check(status == 403 and b"supported-calendar-component" in body,
          "VEVENT into a VTODO-only calendar: " + describe("PUT", chores_path + "late.ics", headers, status, resp_headers, body))

    step("calendar-query with a closed time range")
    # Every event inside the range comes back, the recurring one that began
    # before it included, and nothing outside it.
    found = work.search(start=utc(2027, 1, 10), end=utc(2027, 2, 1), event=True)
    got = uids(found)
    equal(got, {"berlin-planning@coffer.test", "standup@coffer.test", "raw-event@coffer.test"},
          "events in 2027-01-10..2027-02-01")
    for obj in found:
        check(obj.data and "BEGIN:VCALENDAR" in obj.data, "calendar-query result %s has no calendar-data" % obj.url)

    step("calendar-query with an open end")
    found = work.search(start=utc(2027, 3, 1), event=True)
    got = uids(found)
    for uid in ("standup@coffer.test", "summer-party@coffer.test"):
        check(uid in got, "time-range from 2027-03-01 lacks %s; got %s" % (uid, sorted(got)))

    step("date_search with expand")
    found = work.date_search(utc(2027, 1, 10), utc(2027, 2, 1), expand=True)
    starts = {}
    for obj in found:
        for comp in obj.icalendar_instance.walk():
            if comp.name == "VEVENT" and str(comp["UID"]) == "standup@coffer.test":
                starts[comp.decoded("DTSTART")] = str(comp["SUMMARY"])
    equal(starts, {utc(2027, 1, 11, 9): "Standup", utc(2027, 1, 19, 14): "Standup (moved)",
                   utc(2027, 1, 25, 9): "Standup"}, "expanded standup instances")
    # python-caldav expands on the client when the server returns the
    # master with its RRULE, so look at the server's own answer too.
    headers = {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"}
    status, resp_headers, body = raw.request("REPORT", work_path, EXPAND_QUERY, headers)
    check(status == 207 and b"standup@coffer.test" in body,
          "calendar-query with expand: " + describe("REPORT", work_path, headers, status, resp_headers, body))
    standup_data = [d for d in calendar_data(body) if "UID:standup@coffer.test" in d]
    equal(len(standup_data), 1, "standup resources in the expand answer")
    check("RRULE:" not in standup_data[0], "the server's expand answer still holds the RRULE")
    instances = sorted(line for line in standup_data[0].splitlines() if line.startswith(("RECURRENCE-ID", "DTSTART")))
    equal(instances, ["DTSTART:20270111T090000Z", "DTSTART:20270119T140000Z", "DTSTART:20270125T090000Z",
                      "RECURRENCE-ID:20270111T090000Z", "RECURRENCE-ID:20270118T090000Z",
                      "RECURRENCE-ID:20270125T090000Z"], "instances expanded by the server")

    step("save todos with a subtask")
    parent = chores.save_todo(PARENT)
    child = chores.save_todo(CHILD)
    done = chores.save_todo(DONE)
    for obj in (parent, child, done):
        status, _, body = raw.request("GET", path_of(obj.url))
        check(status == 200 and body == obj.wire_data, "GET %s: %d, not what was PUT:\n%r" % (path_of(obj.url), status, body))
    loaded = caldav.Todo(client, url=child.url, parent=chores).load()
    related = component(loaded)["RELATED-TO"]
    equal(str(related), "move-house@coffer.test", "RELATED-TO of the subtask")
    equal(related.params.get("RELTYPE"), "PARENT", "RELTYPE of the subtask")

    step("list todos")
    everything = chores.todos(include_completed=True)
    equal(uids(everything), {"move-house@coffer.test", "pack-books@coffer.test", "order-boxes@coffer.test"},
          "all todos")
    equal(paths(everything), paths([parent, child, done]), "todo URLs")
    for obj in everything:
        check(isinstance(obj, caldav.Todo), "%s came back as %s" % (obj.url, type(obj).__name__))

    step("list pending todos (prop-filter, text-match, is-not-defined)")
    pending = chores.todos()
    equal(uids(pending), {"move-house@coffer.test", "pack-books@coffer.test"}, "pending todos")

    step("find a todo by UID (text-match)")
    found = chores.todo_by_uid("pack-books@coffer.test")
    equal(path_of(found.url), path_of(child.url), "todo_by_uid")

    step("sync-collection: initial")
    snapshot = work.objects_by_sync_token(load_objects=True)
    token1 = snapshot.sync_token
    check(token1 and (":" in token1 or "/" in token1), "sync-token %r is not a URI" % token1)
    all_events = {path_of(berlin.url), path_of(standup.url), path_of(summer.url), raw_path}
    equal(paths(snapshot), all_events, "initial sync-collection members")
    for obj in snapshot:
        check(etag_of(obj), "initial sync-collection member %s has no ETag" % obj.url)

    step("sync-collection: only the changes since the token")
    comp = component(berlin)
    comp["SUMMARY"] = "Planning in Berlin (room changed)"
    berlin.save()
    summer.delete()
    late = work.save_event(LATE)
    changes = work.objects_by_sync_token(token1)
    token2 = changes.sync_token
    check(token2 and token2 != token1, "sync-token did not move: %r" % token2)
    equal(paths(changes), {path_of(berlin.url), path_of(summer.url), path_of(late.url)},
          "members reported since the first token")
    updated, deleted = snapshot.sync()
    equal(paths(updated), {path_of(berlin.url), path_of(late.url)}, "updated members")
    equal(paths(deleted), {path_of(summer.url)}, "deleted members")
    equal(snapshot.sync_token, token2, "token after sync")
    equal(paths(snapshot), all_events - {path_of(summer.url)} | {path_of(late.url)}, "members after sync")

    step("sync-collection: nothing changed")
    again = work.objects_by_sync_token(token2)
    equal(paths(again), set(), "members reported with no change")
    equal(again.sync_token, token2, "token with no change")

    step("update with ETags")
    berlin.load()
    etag1 = etag_of(berlin)
    check(etag1 and etag1.startswith('"'), "ETag %r is not strong" % etag1)
    component(berlin)["SUMMARY"] = "Planning in Berlin (moved again)"
    berlin.save()
    berlin.load()
    etag2 = etag_of(berlin)
    check(etag2 and etag2 != etag1, "ETag did not change on update: %r" % etag2)
    stale_body = berlin.wire_data.replace(b"(moved again)", b"(stale write)")
    headers = {"Content-Type": "text/calendar", "If-Match": etag1}
    status, resp_headers, body = raw.request("PUT", path_of(berlin.url), stale_body, headers)
    check(status == 412, "stale If-Match PUT: " + describe("PUT", path_of(berlin.url), headers, status, resp_headers, body))
    status, _, body = raw.request("GET", path_of(berlin.url))
    check(b"(moved again)" in body, "a refused PUT changed the event:\n%r" % body)
    headers = {"Content-Type": "text/calendar", "If-Match": etag2}
    fresh_body = berlin.wire_data.replace(b"(moved again)", b"(confirmed)")
    status, resp_headers, body = raw.request("PUT", path_of(berlin.url), fresh_body, headers)
    check(status == 204, "If-Match PUT with the current ETag: " + describe("PUT", path_of(berlin.url), headers, status, resp_headers, body))
    etag3 = resp_headers.get("ETag")
    berlin.load()
    equal(etag_of(berlin), etag3, "ETag after the conditional PUT")
    equal(str(component(berlin)["SUMMARY"]), "Planning in Berlin (confirmed)", "SUMMARY after the conditional PUT")
    headers = {"If-Match": etag2}
    status, resp_headers, body = raw.request("DELETE", path_of(berlin.url), None, headers)
    check(status == 412, "stale If-Match DELETE: " + describe("DELETE", path_of(berlin.url), headers, status, resp_headers, body))

    step("delete events, todos and collections")
    berlin.delete()
    status, _, _ = raw.request("GET", path_of(berlin.url))
    equal(status, 404, "GET after DELETE")
    try:
        berlin.load()
    except error.NotFoundError:
        pass
    else:
        raise Failure("load() after delete() found the event")
    equal(uids(work.events()), {"standup@coffer.test", "raw-event@coffer.test", "late-addition@coffer.test"},
          "events after deletion")
    child.delete()
    equal(uids(chores.todos(include_completed=True)), {"move-house@coffer.test", "order-boxes@coffer.test"},
          "todos after deletion")
    status, _, body = raw.request("DELETE", chores_path)
    equal(status, 204, "DELETE of the task list (%s)" % body[:300])
    equal({path_of(c.url) for c in principal.calendars()}, {cal_path, tasks_path, work_path},
          "calendars after deleting the task list")
    status, _, _ = raw.request("GET", path_of(parent.url))
    equal(status, 404, "GET of a todo in a deleted task list")


def main():
    """Run the scenario; exit 1 with the failing step on the first failure."""
    if len(sys.argv) != 4:
        sys.exit("usage: caldav_scenario.py URL USERNAME PASSWORD")
    try:
        run(*sys.argv[1:])
    except Failure as err:
        print("FAIL in step %r: %s" % (STEP, err), flush=True)
        sys.exit(1)
    except Exception as err:  # the library raises its own errors on bad answers
        import traceback
        traceback.print_exc()
        print("FAIL in step %r: %s: %s" % (STEP, type(err).__name__, err), flush=True)
        sys.exit(1)
    print("OK: every step passed", flush=True)


if __name__ == "__main__":
    main()

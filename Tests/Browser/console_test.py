"""Drives the operator console of a real `flowrun serve` in headless Chromium (Selenium).

Run by Tests/FlowrunTests/ConsoleBrowserTests.swift, which starts the service with the demo flows and
passes: CONSOLE_URL, CONSOLE_TOKEN, FLOWRUN (the binary), STATE (the state store), SHOTS (a directory
for screenshots), CHROMIUM and CHROMEDRIVER. Prints one line per step; exits non-zero on the first
failure. Every wait polls with a deadline.
"""

import json
import os
import subprocess
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

URL = os.environ["CONSOLE_URL"].rstrip("/")
TOKEN = os.environ["CONSOLE_TOKEN"]
SHOTS = os.environ.get("SHOTS")
FLOW = "user-sync"


def step(text):
    print("ok   " + text, flush=True)


def wait_for(what, check, timeout=60.0, every=0.2):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as error:  # the page may be reloading
            last = error
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what} (last error: {last})")


def shot(driver, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        driver.save_screenshot(os.path.join(SHOTS, name + ".png"))


def flow_row(driver, name):
    for row in driver.find_elements(By.CSS_SELECTOR, "tbody tr"):
        heads = row.find_elements(By.CSS_SELECTOR, "th a")
        if heads and heads[0].text == name:
            return row
    raise AssertionError(f"no row for flow {name}")


def click_button(scope, label):
    for button in scope.find_elements(By.CSS_SELECTOR, "button"):
        if button.text.strip() == label:
            button.click()
            return
    raise AssertionError(f"no button {label}")


def run_id(driver):
    return wait_for("a run page", lambda: "/runs/r" in driver.current_url and driver.current_url.split("/runs/")[1].split("?")[0])


def wait_finished(driver, timeout=90.0):
    """Waits for the server-rendered page of a finished run (the script reloads it when the run ends)."""
    def finished():
        bar = driver.find_element(By.CSS_SELECTOR, "main .progress")
        return bar.get_attribute("data-status") != "running" and not bar.get_attribute("data-live") and bar
    return wait_for("the run to finish", finished, timeout)


def start(driver, label, fields=None):
    """Clicks a flow's button on the Flows page, retrying while another run holds the flow (409)."""
    def attempt():
        driver.get(URL + "/")
        row = flow_row(driver, FLOW)
        if fields:
            row.find_element(By.TAG_NAME, "summary").click()
            for name, value in fields.items():
                box = row.find_element(By.NAME, name)
                box.clear()
                box.send_keys(value)
        click_button(row, label)
        return "/runs/r" in driver.current_url
    wait_for(f"{label} to start a run", attempt, timeout=60, every=0.5)
    return run_id(driver)


def main():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1500"]:
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
    driver.set_page_load_timeout(30)
    try:
        # Log in: a page redirects to the login form; a wrong token is refused.
        driver.get(URL + "/")
        wait_for("the login form", lambda: "/login" in driver.current_url)
        driver.find_element(By.ID, "token").send_keys("wrong")
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait_for("the refusal", lambda: "not the admin token" in driver.page_source)
        driver.find_element(By.ID, "token").send_keys(TOKEN)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait_for("the flows page", lambda: driver.find_element(By.TAG_NAME, "h1").text == "Flows")
        cookie = driver.get_cookie("flowrun_session")
        assert cookie and cookie.get("httpOnly") and cookie.get("sameSite") == "Strict", cookie
        step("logged in (session cookie HttpOnly, SameSite=Strict)")

        flow_row(driver, FLOW)
        flow_row(driver, "mock-crm")
        step("the flows are listed: user-sync, mock-crm")

        # The scheduled run at start-up (emitOnStart) dead-letters the poison records; wait for it.
        def first_run_done():
            driver.get(URL + "/runs?flow=" + FLOW)
            statuses = [b.get_attribute("data-status") for b in driver.find_elements(By.CSS_SELECTOR, "tbody .progress")]
            return statuses and "running" not in statuses
        wait_for("the start-up run to end", first_run_done, timeout=90, every=0.5)

        # Run now: the progress bar moves to 100% without a reload of our own.
        driver.get(URL + "/")
        shot(driver, "flows")
        rid = start(driver, "Run now")
        seen = set()

        def at_100():
            bar = driver.find_element(By.CSS_SELECTOR, "main .progress")
            seen.add((bar.get_attribute("data-status"), bar.get_attribute("data-percent")))
            return bar.get_attribute("data-percent") == "100" and bar.get_attribute("data-status") in ("completed", "completed_with_errors")
        wait_for("the progress bar at 100%", at_100, timeout=90)
        step(f"run {rid}: progress reached 100% (states seen: {sorted(seen)})")
        wait_finished(driver)  # the page reloaded with the final record
        wait_for("the Retry button", lambda: driver.find_elements(By.XPATH, "//button[text()='Retry']"))
        shot(driver, "run")

        # The detail shows the counters `flowrun runs ID` shows.
        out = subprocess.run(
            [os.environ["FLOWRUN"], "runs", "show", rid, "--state", os.environ["STATE"], "--format", "json"],
            check=True, capture_output=True, text=True).stdout
        record = json.loads(out)
        for name, value in record["counters"].items():
            card = driver.find_element(By.CSS_SELECTOR, f'[data-counter="{name}"] .n')
            assert int(card.text.replace(",", "")) == value, (name, card.text, value)
        assert int(driver.find_element(By.CSS_SELECTOR, '[data-counter="messages"] .n').text.replace(",", "")) == record["messages"]
        step(f"run {rid}: counters equal `flowrun runs show` ({record['counters']['processed']} processed)")
        assert driver.find_elements(By.CSS_SELECTOR, "svg g.node"), "no flow graph"
        assert driver.find_elements(By.CSS_SELECTOR, "svg path.edge.error"), "no dashed error edge"

        driver.get(URL + "/runs?flow=" + FLOW)
        shot(driver, "runs")

        # Dry run: the report.
        rid = start(driver, "Dry run")
        wait_finished(driver)
        report = driver.find_element(By.ID, "dry-run-report").text
        assert "nothing was written" in report and "would insert" in report, report
        step(f"dry run {rid}: report shown ({report.splitlines()[1].strip()})")
        driver.execute_script("arguments[0].scrollIntoView()", driver.find_element(By.XPATH, "//h2[text()='Counters']"))
        shot(driver, "dry-run")

        # Dead letters of the poison records: replay one, skip the others (a bulk action).
        driver.get(URL + "/dlq?flow=" + FLOW)
        rows = wait_for("dead letters", lambda: driver.find_elements(By.CSS_SELECTOR, "tr[data-item]"))
        assert len(rows) >= 2, len(rows)
        shot(driver, "dlq")
        first = rows[0].get_attribute("data-item")
        click_button(rows[0], "Replay")
        notice = wait_for("the replay notice", lambda: driver.find_element(By.CSS_SELECTOR, ".notice").text)
        assert "replaying " + first in notice, notice
        replay_run = notice.split("(run ")[1].split(")")[0]
        driver.get(URL + "/runs/" + replay_run)
        wait_finished(driver)
        assert "replay" in driver.find_element(By.TAG_NAME, "main").text
        step(f"dead letter {first} replayed as run {replay_run}")
        driver.get(URL + "/dlq?flow=" + FLOW)
        others = [r.get_attribute("data-item") for r in driver.find_elements(By.CSS_SELECTOR, "tr[data-item]")]
        rest = [i for i in others if i != first]
        assert rest, others
        for box in driver.find_elements(By.CSS_SELECTOR, "input[name=id]"):
            if box.get_attribute("value") in rest:
                box.click()
        click_button(driver.find_element(By.ID, "dlq-form"), "Skip selected")
        wait_for("the skip notice", lambda: "skipped" in driver.find_element(By.CSS_SELECTOR, ".notice").text)
        left = [r.get_attribute("data-item") for r in driver.find_elements(By.CSS_SELECTOR, "tr[data-item]")]
        assert not set(rest) & set(left), (rest, left)
        step(f"dead letters {', '.join(rest)} skipped (bulk)")

        # Cancel a slow run (every CRM answer waits MOCK_CRM_DELAY). On a loaded machine the click can land
        # after the run ended; then another run is started and cancelled (at most three tries).
        def status_of(rid):
            driver.get(URL + "/runs/" + rid)
            return driver.find_element(By.CSS_SELECTOR, "main .progress").get_attribute("data-status")
        seen = []
        for _ in range(3):
            rid = start(driver, "Run now")
            click_button(driver.find_element(By.TAG_NAME, "main"), "Cancel")
            ended = wait_for("the run to end", lambda: (lambda st: st if st not in ("running", "", None) else None)(status_of(rid)),
                             timeout=60, every=0.5)
            seen.append(ended)
            if ended == "cancelled":
                break
        assert seen[-1] == "cancelled", f"runs ended {seen}, none cancelled"
        step(f"run {rid} cancelled")

        # A record holding <script> is text: a single run for a user id that is markup.
        evil = "<script>alert(1)</script>"
        rid = start(driver, "Run single", {"value": evil})
        wait_finished(driver)
        main = driver.find_element(By.TAG_NAME, "main")
        for d in main.find_elements(By.TAG_NAME, "details"):
            d.click()
        assert evil in main.text, main.text
        assert evil not in driver.page_source, "markup was not escaped"
        assert not driver.find_elements(By.XPATH, "//main//script"), "a script element in the page body"
        step(f"run {rid}: a record holding <script> is shown as text")

        # The State page: a guarded edit, also with markup.
        driver.get(URL + "/state/" + FLOW)
        driver.find_element(By.ID, "new-key").send_keys("note")
        driver.find_element(By.ID, "new-value").send_keys(json.dumps(evil))
        click_button(driver.find_element(By.TAG_NAME, "main"), "Add")
        wait_for("the saved notice", lambda: "saved" in driver.find_element(By.CSS_SELECTOR, ".notice").text)
        assert driver.find_element(By.ID, "v-note").get_attribute("value") == json.dumps(evil)
        assert evil not in driver.page_source
        shot(driver, "state")
        step("state key saved through the guarded edit, markup shown as text")

        # A POST without the CSRF token is refused (the session cookie alone is not enough).
        status = driver.execute_async_script(
            "var done=arguments[arguments.length-1];"
            "fetch('/flows/user-sync/disable',{method:'POST',credentials:'same-origin',"
            "headers:{'Content-Type':'application/x-www-form-urlencoded'},body:'x=1'}).then(function(r){done(r.status);});")
        assert status == 403, status
        driver.get(URL + "/")
        assert "disabled" not in flow_row(driver, FLOW).find_element(By.CSS_SELECTOR, ".badge").text
        step("a POST without the CSRF token is refused (403) and changed nothing")

        # A phone-sized window: no page is wider than the screen (wide tables scroll in their own box).
        driver.set_window_size(390, 844)
        for path in ["/", "/runs", "/dlq?all=1", "/state/" + FLOW]:
            driver.get(URL + path)
            wide = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
            assert wide <= 1, (path, wide)
        driver.get(URL + "/runs?flow=" + FLOW)
        shot(driver, "runs-phone")
        step("pages fit a phone-sized window")
    except Exception:
        shot(driver, "failure")
        print("page at failure: " + driver.current_url, flush=True)
        raise
    finally:
        driver.quit()


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print(f"FAIL {error}", flush=True)
        sys.exit(1)

"""The subscriber cabinet in real headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by Selenium) against a running bgbilling server: what a
subscriber does, page by page, with a screenshot of each kept as a test artifact in
``var/artifacts/cabinet/``."""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import unavailable
from tests.e2e.server import ADMIN_PASSWORD

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.expected_conditions import staleness_of  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts" / "cabinet"
PASSWORD, NEW_PASSWORD = "cabinet-pass-1", "cabinet-pass-2"


def api(server, method: str, path: str, body=None, token: str | None = None):
    request = urllib.request.Request(
        server.url + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json",
                 **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


@pytest.fixture(scope="module")
def contract(billing_server):
    """A contract with a cabinet password, a payment and a writable e-mail parameter."""
    token = api(billing_server, "POST", "/api/v1/auth/login",
                {"login": "admin", "password": ADMIN_PASSWORD})["token"]
    existing = {p["key"] for p in api(billing_server, "GET", "/api/v1/params",
                                      token=token)["items"]}
    if "email" not in existing:
        api(billing_server, "POST", "/api/v1/params", {
            "key": "email", "title": "E-mail", "type": "email", "cabinet_read": True,
            "cabinet_write": True, "history": True}, token)
    made = api(billing_server, "POST", "/api/v1/contracts",
               {"title": "Browser Test", "cabinet_password": PASSWORD}, token)
    api(billing_server, "POST", f"/api/v1/contracts/{made['id']}/payments",
        {"amount": "1234.50", "comment": "first payment"}, token)
    return {**made, "token": token}


@pytest.fixture
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        unavailable("Debian's chromium and chromium-driver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=420,900", "--lang=ru"):
        options.add_argument(argument)
    # a phone-sized window with a Russian browser
    options.add_experimental_option("prefs", {"intl.accept_languages": "ru-RU,ru"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=DRIVER),
                              options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


class Steps:
    """Each step ends with a screenshot named after it."""

    def __init__(self, driver, base: str, name: str):
        self.driver = driver
        self.base = base
        self.folder = ARTIFACTS / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.count = 0

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    def shot(self, what: str) -> None:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{what}.png"
        assert self.driver.save_screenshot(str(path)), path

    def fill(self, name: str, value: str, form=None) -> None:
        field = (form or self.driver).find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)

    def submit(self, form) -> None:
        """Send the form and wait for the page it leads to."""
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        WebDriverWait(self.driver, 10).until(staleness_of(form))

    def click(self, element) -> None:
        element.click()
        WebDriverWait(self.driver, 10).until(staleness_of(element))

    def text(self, css: str) -> str:
        """Shown text; WebDriver gives no-break spaces as spaces."""
        return self.driver.find_element(By.CSS_SELECTOR, css).text.replace("\u00a0", " ")

    @property
    def page(self) -> str:
        return self.text("body")


def log_in(steps: Steps, number: str, password: str) -> None:
    steps.open("/cabinet/login")
    steps.fill("number", number)
    steps.fill("password", password)
    steps.submit(steps.driver.find_element(By.CSS_SELECTOR, "form.card"))


def test_a_subscribers_visit(billing_server, contract, browser):
    steps = Steps(browser, billing_server.url, "visit")
    steps.open("/cabinet/")
    assert browser.current_url.endswith("/cabinet/login")
    steps.shot("login")

    log_in(steps, contract["number"], PASSWORD)
    assert browser.current_url.endswith("/cabinet/")
    assert steps.text("#balance") == "1 234,50 ₽"
    assert "Обзор" in steps.page
    steps.shot("overview")

    steps.click(browser.find_element(By.LINK_TEXT, "Звонки"))
    assert steps.text("#report-empty") == "За эти даты записей нет"
    steps.shot("calls")

    steps.click(browser.find_element(By.LINK_TEXT, "Мои данные"))
    form = browser.find_element(By.CSS_SELECTOR, "#param-email form")
    steps.fill("value", "Subscriber@Example.RU", form)
    steps.submit(form)
    assert "Сохранено" in steps.page
    value = browser.find_element(By.CSS_SELECTOR, "#param-email input[name=value]")
    assert value.get_attribute("value") == "Subscriber@example.ru"
    steps.shot("email-saved")

    steps.open("/cabinet/?lang=en")
    assert steps.text("#balance") == "RUB 1,234.50" and "Overview" in steps.page
    steps.shot("english")
    steps.open("/cabinet/money")  # the choice is remembered
    assert "Money" in steps.page and "RUB 1,234.50" in steps.page
    steps.shot("money-english")

    steps.open("/cabinet/")
    form = browser.find_element(By.CSS_SELECTOR, "form[action='/cabinet/suspend']")
    steps.fill("days", "7", form)
    steps.submit(form)
    assert "The service is suspended" in steps.page
    assert steps.text("#status").startswith("suspended")
    steps.shot("suspended")

    steps.click(browser.find_element(By.LINK_TEXT, "Password"))
    steps.fill("current", PASSWORD)
    steps.fill("new", NEW_PASSWORD)
    steps.fill("repeat", NEW_PASSWORD)
    steps.submit(browser.find_element(By.CSS_SELECTOR, "form.card"))
    assert browser.current_url.split("?")[0].endswith("/cabinet/login")
    assert "The password is changed" in steps.page
    steps.shot("password-changed")

    log_in(steps, contract["number"], NEW_PASSWORD)
    assert browser.current_url.endswith("/cabinet/")
    steps.shot("signed-in-again")

    steps.submit(browser.find_element(By.CSS_SELECTOR, "form.logout"))
    assert "You are signed out" in steps.page
    steps.shot("signed-out")
    steps.open("/cabinet/money")
    assert browser.current_url.endswith("/cabinet/login")


def test_a_wrong_password(billing_server, contract, browser):
    steps = Steps(browser, billing_server.url, "wrong-password")
    log_in(steps, contract["number"], "not-the-password")
    assert browser.current_url.endswith("/cabinet/login")
    assert "Неверный номер договора или пароль" in steps.text("[role=alert]")
    steps.shot("wrong-password")
    steps.open("/cabinet/")
    assert browser.current_url.endswith("/cabinet/login")

import pytest

from bgserver.config import ConfigError, Settings, load_settings


def test_defaults_work_with_no_file_and_no_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.database.url == "sqlite:///var/bgbilling.sqlite3"
    assert settings.server.listen == "tcp:8080:interface=127.0.0.1"
    assert settings.events.broker == "local"
    assert settings.billing.timezone == "Europe/Moscow"
    assert settings.billing.currency == "RUB"


def test_file_then_environment_on_top(tmp_path):
    file = tmp_path / "bg.toml"
    file.write_text('[database]\nurl = "mysql+pymysql://bg:pw@db/bg"\nthreads = 4\n'
                    '[events]\nbroker = "stomp://mq:61613"\n')
    settings = load_settings(file, environ={"BG_DATABASE__THREADS": "16",
                                            "BG_BILLING__TIMEZONE": "Asia/Novosibirsk"})
    assert settings.database.url == "mysql+pymysql://bg:pw@db/bg"
    assert settings.database.threads == 16
    assert settings.events.stomp_address == ("mq", 61613)
    assert settings.billing.timezone == "Asia/Novosibirsk"


def test_config_path_from_environment(tmp_path):
    file = tmp_path / "other.toml"
    file.write_text('[server]\nlisten = "tcp:9000"\n')
    assert load_settings(environ={"BG_CONFIG": str(file)}).server.listen == "tcp:9000"


@pytest.mark.parametrize("text, key", [
    ('[database]\nurll = "x"\n', "database.urll"),
    ('[databse]\nurl = "x"\n', "databse"),
    ('[database]\nthreads = 0\n', "database.threads"),
    ('[database]\nurl = "postgresql://x/y"\n', "database.url"),
    ('[billing]\ntimezone = "Mars/Olympus"\n', "billing.timezone"),
    ('[billing]\ncurrency = "rubles"\n', "billing.currency"),
    ('[events]\nbroker = "amqp://x"\n', "events.broker"),
    ('[events]\nbroker = "stomp://mq:port"\n', "events.broker"),
    ('[cabinet]\npromised_payment_max_amount = "1.234"\n', "cabinet.promised_payment_max_amount"),
    ('[cabinet]\nsuspension_min_days = 10\nsuspension_max_days = 5\n', "cabinet"),
])
def test_a_wrong_key_or_value_names_the_key(tmp_path, text, key):
    file = tmp_path / "bg.toml"
    file.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_settings(file, environ={})
    assert key in str(error.value)


@pytest.mark.parametrize("name, value, key", [
    ("BG_DATABASE__THREADS", "many", "database.threads"),
    ("BG_SERVER__LISTN", "tcp:1", "server.listn"),
    ("BG_NOSECTION", "1", "BG_NOSECTION"),
])
def test_a_wrong_environment_override_names_the_key(tmp_path, monkeypatch, name, value, key):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as error:
        load_settings(environ={name: value})
    assert key in str(error.value)


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.toml", environ={})


def test_invalid_toml_is_an_error(tmp_path):
    file = tmp_path / "bg.toml"
    file.write_text("[database\n")
    with pytest.raises(ConfigError, match="TOML"):
        load_settings(file, environ={})


def test_non_key_variables_are_left_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={"BG_ADMIN_PASSWORD": "secret", "PATH": "/bin"})
    assert settings == Settings()

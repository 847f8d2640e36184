"""org.yaml's group robots and mobile numbers, as `rectify check` reads them: every
problem as file:line in Chinese, the rest of the site untouched."""

from __future__ import annotations

import pytest

from engine.robots import mobile_number
from tests.conftest import Cli
from tests.robotsite import SECRET, set_leader_robots, set_mobiles, set_robots

WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa"
DING_URL = "https://oapi.dingtalk.com/robot/send?access_token=a1b2c3d4e5"


def test_a_site_with_robots_and_mobiles_passes_the_check(run: Cli) -> None:
    set_robots(run.site, "保卫处", [{"kind": "dingtalk", "webhook": DING_URL, "secret": SECRET}])
    set_robots(run.site, "总务处", [{"kind": "wecom", "webhook": WECOM_URL},
                                  {"kind": "dingtalk", "webhook": DING_URL + "x"}])
    set_leader_robots(run.site, [{"kind": "wecom", "webhook": WECOM_URL + "b"}])
    set_mobiles(run.site, {"马建军": "+86 138-0000-0003", "赵卫东": "13800000002"})
    assert "站点文件校验通过" in run("check").stdout


@pytest.mark.parametrize(("robot", "message"), [
    ({"kind": "feishu", "webhook": WECOM_URL}, "“units/2/robots/0/kind”的值“feishu”不在允许范围内（可选：wecom、dingtalk）"),
    ({"kind": "wecom"}, "单位“保卫处”的第 1 个群机器人缺少 webhook（或 webhook_env、webhook_file）"),
    ({"kind": "wecom", "webhook": "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"},
     "单位“保卫处”的第 1 个群机器人的 webhook 应以 https:// 开头（只有本机地址 127.0.0.1、localhost 可用 http://），否则密钥会明文传输"),
    ({"kind": "wecom", "webhook": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"},
     "单位“保卫处”的第 1 个群机器人的 webhook 缺少 key 参数（企业微信群机器人的地址应形如 https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…）"),
    ({"kind": "dingtalk", "webhook": WECOM_URL},
     "单位“保卫处”的第 1 个群机器人的 webhook 缺少 access_token 参数（钉钉群机器人的地址应形如 https://oapi.dingtalk.com/robot/send?access_token=…）"),
    ({"kind": "wecom", "webhook": "企业微信群"}, "单位“保卫处”的第 1 个群机器人的 webhook “企业微信群”不是有效的网址"),
    ({"kind": "wecom", "webhook": WECOM_URL, "secret": SECRET},
     "单位“保卫处”的第 1 个群机器人是企业微信群机器人，企业微信群机器人没有加签密钥，请删除 secret"),
    ({"kind": "dingtalk", "webhook": DING_URL, "secret": "abc123"},
     "单位“保卫处”的第 1 个群机器人的 secret 应为钉钉机器人安全设置“加签”一栏显示的以 SEC 开头的字符串"),
    ({"kind": "dingtalk", "webhook": DING_URL, "webhook_env": "DING_URL"},
     "单位“保卫处”的第 1 个群机器人同时写了 webhook、webhook_env，只能写其中一个"),
    ({"kind": "dingtalk", "webhook": DING_URL, "secret_env": "DING-SECRET"},
     "单位“保卫处”的第 1 个群机器人的 secret_env“DING-SECRET”不是有效的环境变量名"),
    ({"kind": "dingtalk", "webhook": DING_URL, "token": "x"}, "token：未知的键"),
])
def test_a_wrong_robot_is_named_with_its_file_and_line(run: Cli, robot: dict[str, str], message: str) -> None:
    line = set_robots(run.site, "保卫处", [robot])
    err = run("check", code=1).stderr
    assert f"org.yaml:{line}: {message}" in err, err
    assert "发现 1 个问题" in err


def test_the_leaders_robots_are_checked_too(run: Cli) -> None:
    set_leader_robots(run.site, [{"kind": "wecom", "webhook": "ftp://example.org/x"}])
    err = run("check", code=1).stderr
    assert "校领导的第 1 个群机器人的 webhook “ftp://example.org/x”不是有效的网址" in err


@pytest.mark.parametrize("mobile", ["1380000000", "23800000003", "12800000003", "138000000031", "+1 2025550100", "138-0000-000x"])
def test_a_mobile_that_is_not_a_mainland_mobile_number_is_refused_with_its_line(run: Cli, mobile: str) -> None:
    set_mobiles(run.site, {"马建军": mobile})
    line = next(n for n, t in enumerate((run.site / "org.yaml").read_text(encoding="utf-8").splitlines(), 1)
                if '"马建军", mobile' in t)
    err = run("check", code=1).stderr
    assert (f"org.yaml:{line}: 人员“马建军”的手机号“{mobile}”不是有效的中国大陆手机号"
            "（应为 11 位数字，以 1 开头、第二位为 3 至 9，如 13912345678；可带 +86）") in err, err


def test_an_unquoted_mobile_is_read_as_the_number_it_is(run: Cli) -> None:
    org = run.site / "org.yaml"
    org.write_text(org.read_text(encoding="utf-8").replace('{name: "马建军", ', '{name: "马建军", mobile: 13800000003, '),
                   encoding="utf-8")
    assert "站点文件校验通过" in run("check").stdout


def test_mobile_numbers_are_read_with_or_without_country_code_and_separators() -> None:
    assert mobile_number("13800000003") == "13800000003"
    assert mobile_number("+86 138 0000 0003") == "13800000003"
    assert mobile_number("0086-138-0000-0003") == "13800000003"
    assert mobile_number("８６１３８０００００００３") == "13800000003"  # full-width digits
    assert mobile_number(13800000003) == "13800000003"
    assert mobile_number("86138000000031") is None
    assert mobile_number("10086") is None


def test_a_secret_from_the_environment_or_a_file_is_checked_where_it_is(run: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    line = set_robots(run.site, "保卫处", [{"kind": "dingtalk", "webhook_env": "RECTIFY_TEST_DING_URL",
                                          "secret_file": "secrets/ding"}])
    monkeypatch.delenv("RECTIFY_TEST_DING_URL", raising=False)
    err = run("check", code=1).stderr
    assert f"org.yaml:{line}: 保卫处的钉钉群机器人的 webhook：环境变量 RECTIFY_TEST_DING_URL 未设置或为空" in err
    assert f"org.yaml:{line}: 保卫处的钉钉群机器人的 secret：无法读取文件 {run.site / 'secrets/ding'}" in err
    monkeypatch.setenv("RECTIFY_TEST_DING_URL", DING_URL)
    (run.site / "secrets").mkdir()
    (run.site / "secrets" / "ding").write_text("not-a-secret\n", encoding="utf-8")
    err = run("check", code=1).stderr
    assert (f"org.yaml:{line}: 保卫处的钉钉群机器人的 secret（文件 secrets/ding）"
            "应为钉钉机器人安全设置“加签”一栏显示的以 SEC 开头的字符串") in err
    (run.site / "secrets" / "ding").write_text(SECRET + "\n", encoding="utf-8")
    assert "站点文件校验通过" in run("check").stdout

"""`qianzhu wechat menu push`: validates content/menu.yaml, then creates the 公众号 menu through the API."""

from __future__ import annotations

import sys

from bot.catalog.loader import default_content_dir
from bot.channels.wechat.api import WeChatApi, WeChatApiError
from bot.channels.wechat.menu import check_clicks, load_menu
from bot.channels.wechat.texts import load_texts
from bot.core.errors import ContentError
from bot.runtime import EXIT_CONFIG, EXIT_CONTENT
from bot.settings import Settings

EXIT_API = 1


async def push_menu(settings: Settings) -> int:
    """0 when WeChat accepted the menu; 2 for a content error, 4 for missing settings, 1 when WeChat refused."""
    directory = settings.content_dir or default_content_dir()
    try:
        menu = load_menu(directory)
        check_clicks(menu, load_texts(directory), directory)
    except ContentError as exc:
        print(f"菜单文件有误，没有发送 / menu not sent, content error: {exc}", file=sys.stderr)
        return EXIT_CONTENT
    if not settings.wechat_appid or settings.wechat_appsecret is None:
        print("configuration error: set WECHAT_APPID and WECHAT_APPSECRET to push the menu", file=sys.stderr)
        return EXIT_CONFIG
    api = WeChatApi(settings.wechat_api_base_url, settings.wechat_appid, settings.wechat_appsecret)
    try:
        await api.create_menu(menu.payload())
    except WeChatApiError as exc:
        print(f"微信拒绝了菜单 / WeChat refused the menu: {exc}", file=sys.stderr)
        return EXIT_API
    finally:
        await api.aclose()
    buttons = len(menu.buttons())
    print(f"菜单已创建 / menu created: {len(menu.button)} top buttons, {buttons} actions")
    return 0

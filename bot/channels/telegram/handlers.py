"""The python-telegram-bot handlers: commands, texts, button presses and everything else, with group rules."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, CallbackQuery, Chat, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update, User
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.channels.telegram.buttons import Choice, Faq, HelpPage, RemindOff, RemindOn, RemindStop, pages
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.reminder_actions import ReminderActions
from bot.channels.telegram.reminders import listing
from bot.channels.telegram.translate import (
    CHANNEL,
    GROUPS,
    LIMIT,
    Outgoing,
    addressed_text,
    escape,
    is_for_bot,
    user_id,
)

log = logging.getLogger(__name__)
COMMANDS = ("start", "help", "reset", "forget", "remind")
HELP_PAGE_SIZE = 8
NEW_MESSAGES = filters.UpdateType.MESSAGE  # channel posts are not answered
EDITS = filters.UpdateType.EDITED_MESSAGE  # an edited text is answered as the text it now says
CAPTIONED = (filters.PHOTO | filters.Document.IMAGE) & filters.CAPTION  # a caption is read as the message's text
NON_TEXT = (
    filters.Sticker.ALL
    | filters.PHOTO
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.ANIMATION
    | filters.Document.ALL
    | filters.LOCATION
    | filters.VENUE
    | filters.CONTACT
    | filters.POLL
    | filters.Dice.ALL
)
Context = ContextTypes.DEFAULT_TYPE


def _who(update: Update) -> tuple[Chat, User] | None:
    chat, user = update.effective_chat, update.effective_user
    return (chat, user) if chat is not None and user is not None else None


class Handlers:
    """Each handler translates, asks the channel (and so the engine), and sends; none holds state."""

    def __init__(self, channel: TelegramChannel) -> None:
        self.channel = channel
        self.texts = channel.texts
        self.reminders = ReminderActions(channel)

    def register(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        for name in COMMANDS:
            application.add_handler(CommandHandler(name, getattr(self, name), filters=NEW_MESSAGES))
        application.add_handler(CallbackQueryHandler(self.button))
        application.add_handler(MessageHandler((NEW_MESSAGES | EDITS) & filters.TEXT, self.text))
        application.add_handler(MessageHandler(NEW_MESSAGES & CAPTIONED, self.text))
        application.add_handler(MessageHandler(NEW_MESSAGES & NON_TEXT, self.non_text))
        application.add_error_handler(self.error)

    # -- commands ----------------------------------------------------------------------------------------------

    async def _command(self, update: Update, context: Context, text: str) -> None:
        who, message = _who(update), update.effective_message
        if who is not None and message is not None:
            await self.channel.converse(context.bot, *who, text, message.message_id)

    async def start(self, update: Update, context: Context) -> None:
        who = _who(update)
        wanted = self.channel.codec.read_start(context.args[0]) if context.args else None
        if wanted is not None and who is not None and who[0].type not in GROUPS:
            await self.reminders.schedule(context.bot, *who, wanted)  # the private-chat link from a group's verdict
            return
        await self._command(update, context, "/start")

    async def reset(self, update: Update, context: Context) -> None:
        await self._command(update, context, self.channel.catalog.prompts.commands["reset"][0])

    async def help(self, update: Update, context: Context) -> None:
        """The categories, as buttons: the same help as typing 帮助, on every channel. (The FAQ pages of older
        /help messages still turn: see HelpPage.)"""
        await self._command(update, context, "/help")

    async def forget(self, update: Update, context: Context) -> None:
        who, message = _who(update), update.effective_message
        if who is not None and message is not None:
            chat, user = who
            await self.channel.engine.forget(CHANNEL, user_id(chat, user))
            await self._say(context.bot, chat, user, self.texts.forget_done, None, message.message_id)

    async def remind(self, update: Update, context: Context) -> None:
        who, message = _who(update), update.effective_message
        if who is None or message is None:
            return
        if who[0].type in GROUPS:
            await self._say(context.bot, *who, self.texts.reminders.group_only_private, None, message.message_id)
            return
        if context.args and context.args[0].lower() in self.texts.reminders.cancel_words:
            await self.reminders.cancel_all(context.bot, *who)
            return
        chat, user = who
        texts = self.texts.reminders
        pending = await self.channel.store.reminders_for(self.channel.key(chat, user))
        if not pending:
            await self._say(context.bot, chat, user, texts.none, None, message.message_id)
            return
        titles: dict[str, str] = {case: rule.title for case, rule in self.channel.catalog.cases.items()}
        shown = listing(pending, texts, titles, self.channel.codec)
        await self.channel.deliver(context.bot, chat, user, [shown], message.message_id)

    # -- messages ----------------------------------------------------------------------------------------------

    async def text(self, update: Update, context: Context) -> None:
        who, message = _who(update), update.effective_message  # new, edited, or a captioned photo
        if who is None or message is None:
            return
        text = addressed_text(message, context.bot.bot)
        if text is not None:
            await self.channel.converse(context.bot, *who, text, message.message_id)

    async def non_text(self, update: Update, context: Context) -> None:
        who, message = _who(update), update.message
        if who is not None and message is not None and is_for_bot(message, context.bot.bot):
            await self._say(context.bot, *who, self.texts.unsupported, None, message.message_id)

    async def button(self, update: Update, context: Context) -> None:
        query, who = update.callback_query, _who(update)
        if query is None:
            return
        action = self.channel.codec.read(query.data)
        if action is None or who is None or query.message is None:
            await self._answer(query, self.texts.button_expired)
            return
        chat, user = who
        if isinstance(action, Choice) and chat.type not in GROUPS and self._on_reminder(query):
            await self._answer(query)  # a reminder's 材料 / 去哪办: they act as long as the reminder has them
        elif isinstance(action, Choice | RemindOn):  # the buttons of an answer: only the newest ones act
            shown = query.message
            live = await self.channel.live_keyboard(chat, user)
            # In a group the buttons belong to the member they were shown to: another member's press finds no
            # record of them (or of other buttons) for that member, and acts on nobody's conversation.
            if chat.type in GROUPS and live != shown.message_id:
                await self._answer(query, self.texts.button_not_yours)
                return
            if live is not None and live != shown.message_id:
                await self._answer(query, self.texts.button_expired)
                await self.channel.drop_keyboard(context.bot, chat.id, shown.message_id)
                return
            await self._answer(query)
            await self.channel.keyboard_used(chat, user)
            await self._acknowledge(context.bot, query)
        else:
            await self._answer(query)
        if isinstance(action, Choice):
            await self.channel.converse(context.bot, chat, user, action.text)
        elif isinstance(action, Faq):
            entry = self.channel.catalog.faq_entry(action.faq_id)
            if entry is not None:
                await self.channel.converse(context.bot, chat, user, entry.question)
        elif isinstance(action, HelpPage):
            try:
                await query.edit_message_reply_markup(self._help_page(action.page))
            except BadRequest:  # the same page again, or a message too old to edit
                log.debug("the help page was not changed")
        elif isinstance(action, RemindOn) and chat.type in GROUPS:  # a 🔔 sent to a group before the links
            await self._say(context.bot, chat, user, self.texts.reminders.group_only_private)
        elif isinstance(action, RemindOn):
            await self.reminders.schedule(context.bot, chat, user, action)
        elif isinstance(action, RemindOff):
            await self.reminders.cancel_all(context.bot, chat, user)
        elif isinstance(action, RemindStop):
            if action.done:  # 我办好了 under a reminder: the press shows, the buttons go
                await self._acknowledge(context.bot, query)
            await self.reminders.stop(context.bot, chat, user, action)

    async def error(self, update: object, context: Context) -> None:
        """The last resort for one update: logged without ids and counted; the next update goes on as usual."""
        error = context.error
        self.channel.metrics.errors.inc(CHANNEL, "update")
        log.error("a Telegram update failed: %s", type(error).__name__, exc_info=error)

    # -- helpers -----------------------------------------------------------------------------------------------

    async def _answer(self, query: CallbackQuery, text: str | None = None) -> None:
        """Stops the button's spinner; a query too old to answer is no reason to ignore the press."""
        try:
            await self.channel.retrying.call(lambda: query.answer(text))
        except BadRequest:
            log.debug("a callback query could not be answered")

    async def _acknowledge(self, bot: Bot, query: CallbackQuery) -> None:
        """Shows the press in the chat: the pressed message gets a line naming the choice, and loses its
        buttons. A message that cannot take the line (no text, too long, too old) only loses its buttons."""
        shown = query.message
        if not isinstance(shown, Message):
            return
        label = next(
            (
                button.text
                for row in (shown.reply_markup.inline_keyboard if shown.reply_markup else ())
                for button in row
                if button.callback_data == query.data
            ),
            None,
        )
        if shown.text is not None and label is not None:
            html = f"{shown.text_html}\n\n{self.texts.chosen.format(choice=escape(label))}"
            if len(html.encode("utf-16-le")) // 2 <= LIMIT:  # the markup counts too: on the safe side
                try:
                    await self.channel.retrying.call(
                        lambda: bot.edit_message_text(
                            html,
                            chat_id=shown.chat_id,
                            message_id=shown.message_id,
                            parse_mode=ParseMode.HTML,
                            reply_markup=None,
                            link_preview_options=LinkPreviewOptions(is_disabled=True),
                        )
                    )
                    return
                except TelegramError as exc:
                    log.debug("the pressed message was not edited: %s", type(exc).__name__)
        await self.channel.drop_keyboard(bot, shown.chat_id, shown.message_id)

    async def _say(
        self,
        bot: Bot,
        chat: Chat,
        user: User,
        html: str,
        markup: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
    ) -> None:
        await self.channel.deliver(bot, chat, user, [Outgoing(html, markup)], reply_to)

    def _help_page(self, page: int) -> InlineKeyboardMarkup:
        codec = self.channel.codec
        buttons = [codec.faq_button(entry.id, entry.question) for entry in self.channel.catalog.faq]
        book = pages(buttons, HELP_PAGE_SIZE)
        page = min(max(page, 0), len(book) - 1)
        rows = [[button] for button in book[page]]
        texts = self.texts.help
        nav = [codec.page_button(texts.previous, page - 1)] if page > 0 else []
        nav.append(codec.page_button(texts.page.format(page=page + 1, pages=len(book)), page))
        nav += [codec.page_button(texts.next, page + 1)] if page + 1 < len(book) else []
        return InlineKeyboardMarkup([*rows, nav])

    def _on_reminder(self, query: CallbackQuery) -> bool:
        """Whether the pressed message is a reminder (it has a 我办好了), not an answer."""
        shown = query.message
        markup = shown.reply_markup if isinstance(shown, Message) else None
        rows = markup.inline_keyboard if markup is not None else ()
        return any(
            isinstance(action := self.channel.codec.read(str(button.callback_data)), RemindStop) and action.done
            for row in rows
            for button in row
        )

"""The terminal chat (``agribot chat``): typed lines in, replies printed, buttons pressed by key.

Every button gets a key, ``[1] …`` (``[a] …`` at a question that expects a number, so typed
digits stay the answer), and typing the key presses it (``bot.channels.base``). Not a terminal
(a pipe, a file): lines are read one by one and echoed, so a conversation can be scripted.
Answers come in the turn (``Runtime.handle``), as in the web chat; only ``agribot chat``
opens this channel.
"""

from __future__ import annotations

import sys
from typing import TextIO

from bot.channels.base import Capabilities, keyed, pressed
from bot.conversation.split import MAX_MESSAGE_CHARS
from bot.conversation.types import IncomingMessage, Reply
from bot.runtime import Runtime
from bot.sending.worker import Dispatch
from bot.services import files
from bot.settings import Settings

CHANNEL = "console"
QUIT = {"/thoat", "/quit", "/exit"}
HINT = "Gõ câu hỏi; gõ số (hoặc chữ) trong [ ] để bấm nút; /thoat để thoát.\n"


class ConsoleChannel:
    name = CHANNEL
    # every button as a key to type; images and files as paths
    capabilities = Capabilities(max_text=MAX_MESSAGE_CHARS, max_buttons=0, images=False, documents=False)

    def __init__(self, runtime: Runtime, settings: Settings, *, out: TextIO | None = None) -> None:
        self.runtime = runtime
        self.settings = settings
        self.out = out or sys.stdout
        self.keys: dict[str, str] = {}  # key → payload of the buttons last shown

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def deliver(self, user_id: str, replies: list[Reply], dispatch: Dispatch) -> str:
        if not dispatch.skip():
            self.show(replies)
            await dispatch.after()
        return "sent"

    def chat(self, user_id: str, lines: TextIO) -> None:
        """Talk as ``user_id`` until the input ends, ``/thoat`` or Ctrl-C."""
        out, interactive = self.out, lines.isatty()
        if interactive:
            out.write(HINT)
        try:
            while True:
                if interactive:
                    out.write("\nbạn> ")
                    out.flush()
                line = lines.readline()
                if not line:
                    break
                line = line.strip()
                if not line:
                    continue
                if line in QUIT:
                    break
                if not interactive:
                    out.write(f"\nbạn> {line}\n")
                message = pressed(IncomingMessage(channel=CHANNEL, user_id=user_id, text=line), self.keys)
                self.show(self.runtime.handle(message))
        except KeyboardInterrupt:
            pass

    def show(self, replies: list[Reply]) -> None:
        """Print replies, each button with its key; the keys are remembered for the next line."""
        out = self.out
        turn = keyed(replies, self.capabilities)
        for shown in turn.replies:
            reply = shown.reply
            out.write(f"\nbot> {reply.text}\n")
            for row in shown.rows:
                out.write("     " + "   ".join(f"[{key}] {button.text}" for key, button in row) + "\n")
            if reply.image:
                out.write(f"     (ảnh: {self._local(reply.image)})\n")
            if reply.document:
                out.write(f"     (tệp: {self._local(reply.document)})\n")
        out.flush()
        self.keys = turn.keys

    def _local(self, ref: str) -> str:
        """A generated file as its path on this machine; anything else as is."""
        path = files.resolve(self.settings.files_dir, ref)
        return str(path.resolve()) if path else ref

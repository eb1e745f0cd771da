"""Finding the quartier binary and running it with progress and cancel.

quartier prints its summary on stdout and, with `--progress plain`, one line per step
("step: reading sites.geojson") and per percent ("progress: 45%") on stderr; everything
else on stderr is a message for the planner (warnings, and the one error message of bad
input). Exit codes: 0 done; 1 `verify` found violations, or another failure; 2 bad input.
"""

import os
import queue
import re
import shutil
import subprocess
import sys
import threading

#: The Processing setting that holds the path of the binary (Settings → Options →
#: Processing → Providers → quartier).
SETTING = "QUARTIER_EXECUTABLE"

BAD_INPUT = 2

STEP = re.compile(r"^step: (.*)$")
PERCENT = re.compile(r"^progress: (\d{1,3})%$")


class NotFound(Exception):
    """The binary is not where the settings say, or not on PATH."""


class Cancelled(Exception):
    """The planner pressed Cancel; the process was stopped."""


def configured_path():
    """The path set in the provider's settings ('' when unset)."""
    try:
        from processing.core.ProcessingConfig import ProcessingConfig
    except ImportError:
        return ""
    value = ProcessingConfig.getSetting(SETTING)
    return str(value or "").strip()


def find_binary(setting=None):
    """The quartier binary: the provider's setting wins, then PATH."""
    setting = configured_path() if setting is None else setting.strip()
    name = "quartier.exe" if sys.platform == "win32" else "quartier"
    where = "Settings → Options → Processing → Providers → quartier → quartier executable"
    if setting:
        path = os.path.expanduser(setting)
        if os.path.isdir(path):
            path = os.path.join(path, name)
        if not os.path.isfile(path):
            raise NotFound(
                "The quartier executable set in %s does not exist: %s. Set the path of the "
                "quartier program there, or clear the setting to use quartier from PATH."
                % (where, path)
            )
        if not os.access(path, os.X_OK):
            raise NotFound(
                "The quartier executable set in %s cannot be run (no permission to "
                "execute): %s" % (where, path)
            )
        return os.path.abspath(path)
    found = shutil.which(name) or shutil.which("quartier")
    if not found:
        raise NotFound(
            "quartier was not found: it is not on PATH and no path is set. Install quartier "
            "and set the path of the program in %s (for example C:\\Programme\\quartier\\"
            "quartier.exe or /usr/local/bin/quartier)." % where
        )
    return os.path.abspath(found)


def version(binary):
    """'quartier 0.3.0', or None when the program does not answer."""
    try:
        done = subprocess.run(
            [binary, "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            **_no_window(),
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "replace").strip() or None


class Result:
    def __init__(self, code, stdout, messages):
        self.code = code
        #: The summary on stdout, line by line.
        self.stdout = stdout
        #: stderr without the progress lines: warnings and the error message.
        self.messages = messages

    def error_text(self):
        errors = [m for m in self.messages if m.strip()]
        return "\n".join(errors) if errors else "(quartier printed no message)"


def run(binary, args, feedback, cwd=None, progress_range=(0.0, 100.0), phases=None):
    """Runs quartier with `--progress plain`; step lines become the progress text, percent
    lines move the progress bar within `progress_range` (by `phases`: (prefix, start,
    end) shares of the range for steps whose message begins with prefix). Pressing
    Cancel stops the process and raises Cancelled."""
    command = [binary] + list(args) + ["--progress", "plain"]
    result = _run(command, feedback, cwd, progress_range, phases or [])
    if result.code == BAD_INPUT and any("--progress" in m for m in result.messages):
        # A quartier from before --progress: run it again without progress lines.
        feedback.pushInfo("This quartier shows no progress steps (it has no --progress).")
        result = _run(command[:-2], feedback, cwd, progress_range, phases or [])
    return result


def _run(command, feedback, cwd, progress_range, phases):
    feedback.pushCommandInfo(" ".join(_quoted(part) for part in command))
    env = dict(os.environ)
    env.pop("QUARTIER_TRACE", None)
    try:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            **_no_window(),
        )
    except OSError as error:
        raise NotFound("quartier could not be started (%s): %s" % (command[0], error))
    lines = queue.Queue()
    readers = [
        threading.Thread(target=_read, args=(process.stdout, "out", lines), daemon=True),
        threading.Thread(target=_read, args=(process.stderr, "err", lines), daemon=True),
    ]
    for reader in readers:
        reader.start()
    stdout, messages = [], []
    low, high = progress_range
    span = (low, high)
    shown = low
    open_streams = 2
    cancelled = False
    while open_streams:
        if feedback.isCanceled():
            cancelled = True
            process.kill()
        try:
            stream, text = lines.get(timeout=0.1)
        except queue.Empty:
            continue
        if text is None:
            open_streams -= 1
            continue
        if stream == "out":
            stdout.append(text)
            feedback.pushConsoleInfo(text)
            continue
        step = STEP.match(text)
        percent = PERCENT.match(text)
        if step:
            message = step.group(1)
            feedback.setProgressText("quartier: " + message)
            span = _span(message, phases, low, high, span)
            shown = max(shown, span[0])
            feedback.setProgress(shown)
        elif percent:
            value = span[0] + (span[1] - span[0]) * min(int(percent.group(1)), 100) / 100.0
            shown = max(shown, value)
            feedback.setProgress(shown)
        else:
            messages.append(text)
            # The error itself reaches the planner once, in the algorithm's exception
            # (`Result.error_text`): reported here as well, the red log showed it twice.
            if not text.startswith("error"):
                _warn(feedback, text)
    code = process.wait()
    for reader in readers:
        reader.join(timeout=1)
    process.stdout.close()
    process.stderr.close()
    if cancelled or feedback.isCanceled():
        raise Cancelled()
    return Result(code, stdout, messages)


def _span(message, phases, low, high, current):
    for prefix, start, end in phases:
        if message.startswith(prefix):
            return (low + (high - low) * start, low + (high - low) * end)
    return current


def _read(stream, name, lines):
    try:
        for raw in iter(stream.readline, b""):
            lines.put((name, raw.decode("utf-8", "replace").rstrip("\r\n")))
    finally:
        lines.put((name, None))


def _warn(feedback, text):
    push = getattr(feedback, "pushWarning", None)
    if push is not None:
        push(text)
    else:
        feedback.pushInfo(text)


def _quoted(part):
    part = str(part)
    if part and re.fullmatch(r"[A-Za-z0-9_./:=@%+-]+", part):
        return part
    return '"' + part.replace('"', '\\"') + '"'


def command_line(args):
    return " ".join(_quoted(a) for a in args)


def _no_window():
    # On Windows, no console window flashes up for each run.
    if sys.platform == "win32":
        return {"creationflags": 0x08000000}  # CREATE_NO_WINDOW
    return {}

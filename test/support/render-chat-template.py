"""Renders a chat template the way Hugging Face transformers' apply_chat_template does, as an
independent reference for node-host's renderer (node-host/engine/chat-template.ts).

stdin: JSON {template, messages, bos_token, eos_token, add_generation_prompt}
stdout: the rendering, UTF-8, nothing added.

The environment mirrors transformers' _compile_jinja_template (utils/chat_template_utils.py):
ImmutableSandboxedEnvironment with trim_blocks and lstrip_blocks, the loopcontrols extension,
a tojson filter that keeps non-ASCII as is, and raise_exception.
"""
import json
import sys

from jinja2.exceptions import TemplateError
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise TemplateError(message)


def tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def main():
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    rendered = env.from_string(request["template"]).render(
        messages=request["messages"],
        bos_token=request["bos_token"],
        eos_token=request["eos_token"],
        add_generation_prompt=request["add_generation_prompt"],
    )
    sys.stdout.buffer.write(rendered.encode("utf-8"))


if __name__ == "__main__":
    main()

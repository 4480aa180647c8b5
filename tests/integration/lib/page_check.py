#!/usr/bin/python3
"""page_check.py: drive headless Chromium over the DevTools protocol.

Opens URL in a fresh headless Chromium, then for SECONDS of real time
prints, every INTERVAL, one JSON line with what the chart page says of
itself (its data attributes: body data-ready/updates/error, and per
panel data-metric, data-points, data-last, data-loaded-t, data-last-t),
and finally a line {"done": ...} with the page's navigation timing.
A prompt() (the page asking for the token) is answered with
--prompt-text and counted.  --screenshot FILE saves a PNG at the end.
For benchmarks: --reloads N first loads the page N times in the same tab
without the HTTP cache (one {"reload": ...} line of timing each; the
first also starts the page's renderer process), and --pages N
keeps N tabs of URL open while it watches the first.

Exit status: 0, or 2 when Chromium cannot start here (the caller skips
with the message printed on stderr).

Uses python3-websockets (asyncio API, Debian 12's 10.x) and the
standard library only.
"""
import argparse
import asyncio
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websockets

STATE_JS = """(function () {
  var b = document.body || {dataset: {}};
  var panels = Array.prototype.map.call(
    document.querySelectorAll('.panel'), function (p) {
      return {metric: p.dataset.metric, points: p.dataset.points,
        drawn: p.dataset.drawn,
        last: p.dataset.last, loaded_t: p.dataset.loadedT,
        last_t: p.dataset.lastT};
    });
  var missing = document.getElementById('missing');
  return JSON.stringify({ready: b.dataset.ready, updates: b.dataset.updates,
    error: b.dataset.error, panels: panels,
    missing_shown: !!(missing && !missing.hidden),
    missing_text: missing && !missing.hidden ? missing.textContent : null});
})()"""

TIMING_JS = """(function () {
  var n = performance.getEntriesByType('navigation')[0] || {};
  var r = performance.getEntriesByType('resource').map(function (e) {
    return {name: e.name, ms: e.duration, status: e.responseStatus};
  });
  var ready = performance.getEntriesByName('finnstream-ready')[0];
  return JSON.stringify({fetch_start_ms: n.fetchStart,
    response_start_ms: n.responseStart, response_end_ms: n.responseEnd,
    dom_interactive_ms: n.domInteractive,
    dom_content_loaded_ms: n.domContentLoadedEventEnd,
    load_ms: n.loadEventEnd, ready_ms: ready ? ready.startTime : null,
    resources: r});
})()"""


class Cdp:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.pending = {}
        self.events = []
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        async for msg in self.ws:
            m = json.loads(msg)
            if 'id' in m and m['id'] in self.pending:
                self.pending.pop(m['id']).set_result(m)
            elif 'method' in m:
                self.events.append(m)
                await self.on_event(m)

    async def on_event(self, m):
        pass

    async def call(self, method, **params):
        self.next_id += 1
        fut = asyncio.get_event_loop().create_future()
        self.pending[self.next_id] = fut
        await self.ws.send(json.dumps(
            {'id': self.next_id, 'method': method, 'params': params}))
        m = await asyncio.wait_for(fut, 30)
        if 'error' in m:
            raise RuntimeError('%s: %s' % (method, m['error']))
        return m.get('result', {})

    async def evaluate(self, expr):
        r = await self.call('Runtime.evaluate', expression=expr,
                            returnByValue=True)
        v = r.get('result', {}).get('value')
        return json.loads(v) if isinstance(v, str) else v


class Page(Cdp):
    def __init__(self, ws, prompt_text):
        super().__init__(ws)
        self.prompt_text = prompt_text
        self.prompts = 0

    async def on_event(self, m):
        if m['method'] == 'Page.javascriptDialogOpening':
            self.prompts += 1
            params = {'accept': self.prompt_text is not None}
            if self.prompt_text is not None:
                params['promptText'] = self.prompt_text
            asyncio.ensure_future(
                self.call('Page.handleJavaScriptDialog', **params))


def start_chromium(binary, profile, width, height):
    args = [binary, '--headless', '--no-sandbox', '--disable-gpu',
            '--disable-dev-shm-usage', '--no-first-run',
            '--no-default-browser-check', '--disable-background-networking',
            '--disable-extensions', '--disable-sync', '--mute-audio',
            '--hide-scrollbars', '--remote-debugging-port=0',
            '--disable-background-timer-throttling',
            '--disable-renderer-backgrounding',
            '--disable-backgrounding-occluded-windows',
            '--remote-debugging-address=127.0.0.1',
            '--user-data-dir=' + profile,
            '--window-size=%d,%d' % (width, height), 'about:blank']
    env = dict(os.environ, HOME=profile)
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(profile, 'stderr'), 'w'),
                            env=env)
    port_file = os.path.join(profile, 'DevToolsActivePort')
    end = time.time() + 30
    while time.time() < end:
        if proc.poll() is not None:
            break
        if os.path.exists(port_file):
            lines = open(port_file).read().split('\n')
            if len(lines) >= 2 and lines[0].isdigit():
                return proc, int(lines[0])
        time.sleep(0.05)
    err = open(os.path.join(profile, 'stderr')).read()[-2000:]
    proc.kill()
    proc.wait()
    print('chromium did not start: ' + err.strip(), file=sys.stderr)
    sys.exit(2)


async def open_more(o, port, n):
    """n more tabs on the same URL (for the cost of many open pages)."""
    with urllib.request.urlopen(
            'http://127.0.0.1:%d/json/version' % port, timeout=10) as r:
        browser = json.load(r)['webSocketDebuggerUrl']
    async with websockets.connect(browser, max_size=64 << 20,
                                  ping_interval=None) as ws:
        b = Cdp(ws)
        for _ in range(n):
            await b.call('Target.createTarget', url=o.url)
        b.reader.cancel()


async def run(o):
    profile = tempfile.mkdtemp(prefix='page-check-')
    proc = None
    try:
        proc, port = start_chromium(o.chromium, profile, o.width, o.height)
        with urllib.request.urlopen(
                'http://127.0.0.1:%d/json/list' % port, timeout=10) as r:
            targets = json.load(r)
        page = [t for t in targets if t.get('type') == 'page'][0]
        async with websockets.connect(page['webSocketDebuggerUrl'],
                                      max_size=64 << 20,
                                      ping_interval=None) as ws:
            p = Page(ws, o.prompt_text)
            await p.call('Page.enable')
            await p.call('Runtime.enable')
            await p.call('Emulation.setDeviceMetricsOverride', width=o.width,
                         height=o.height, deviceScaleFactor=1, mobile=False)
            for i in range(o.reloads):
                # Cold loads (no HTTP cache), one after another: the
                # page's own load cost, printed one line each.
                await p.call('Network.enable')
                await p.call('Network.setCacheDisabled', cacheDisabled=True)
                await p.call('Page.navigate', url=o.url)
                end = time.time() + 30
                timing = None
                while time.time() < end:
                    await asyncio.sleep(0.05)
                    try:
                        timing = await p.evaluate(TIMING_JS)
                    except (RuntimeError, asyncio.TimeoutError):
                        continue
                    if timing and timing.get('ready_ms') and \
                            timing.get('load_ms'):
                        break
                print(json.dumps({'reload': i, 'timing': timing}),
                      flush=True)
                await asyncio.sleep(0.2)
            if o.pages > 1:
                await open_more(o, port, o.pages - 1)
            t0 = time.time()
            await p.call('Page.navigate', url=o.url)
            while time.time() - t0 < o.seconds:
                await asyncio.sleep(o.interval)
                try:
                    st = await p.evaluate(STATE_JS)
                except (RuntimeError, asyncio.TimeoutError):
                    continue
                st['t'] = round(time.time() - t0, 3)
                st['prompts'] = p.prompts
                print(json.dumps(st), flush=True)
            timing = await p.evaluate(TIMING_JS)
            if o.screenshot:
                shot = await p.call('Page.captureScreenshot', format='png')
                with open(o.screenshot, 'wb') as f:
                    f.write(base64.b64decode(shot['data']))
            print(json.dumps({'done': timing, 'prompts': p.prompts}),
                  flush=True)
            p.reader.cancel()
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--chromium', default='chromium')
    ap.add_argument('--url', required=True)
    ap.add_argument('--seconds', type=float, default=5)
    ap.add_argument('--interval', type=float, default=0.5)
    ap.add_argument('--prompt-text')
    ap.add_argument('--screenshot')
    ap.add_argument('--reloads', type=int, default=0)
    ap.add_argument('--pages', type=int, default=1)
    ap.add_argument('--width', type=int, default=1280)
    ap.add_argument('--height', type=int, default=900)
    o = ap.parse_args()
    if shutil.which(o.chromium) is None:
        print('chromium is not installed (%s)' % o.chromium, file=sys.stderr)
        sys.exit(2)
    asyncio.get_event_loop().run_until_complete(run(o))


if __name__ == '__main__':
    main()

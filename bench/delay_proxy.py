# A TCP relay that delays every byte by DELAY seconds each way (latency, not bandwidth).
import asyncio, sys, time
LISTEN, TARGET, DELAY = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
async def pipe(reader, writer):
    q = asyncio.Queue()
    async def read():
        while True:
            data = await reader.read(65536)
            await q.put((time.monotonic() + DELAY, data))
            if not data: return
    async def write():
        while True:
            due, data = await q.get()
            wait = due - time.monotonic()
            if wait > 0: await asyncio.sleep(wait)
            if not data:
                try: writer.write_eof()
                except Exception: pass
                return
            writer.write(data); await writer.drain()
    await asyncio.gather(read(), write())
async def handle(cr, cw):
    sr, sw = await asyncio.open_connection('127.0.0.1', TARGET)
    try: await asyncio.gather(pipe(cr, sw), pipe(sr, cw))
    except Exception: pass
    finally: cw.close(); sw.close()
async def main():
    server = await asyncio.start_server(handle, '127.0.0.1', LISTEN)
    async with server: await server.serve_forever()
asyncio.run(main())

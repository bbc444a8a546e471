// The HTTP floor for bench/serve: bare Koa answering POST /predict with a constant, no parsing,
// no model, no log. Whatever our server does costs the difference to this.
import { createServer } from 'node:http';
import Koa from 'koa';

const port = Number(process.argv[2] ?? 0);
const app = new Koa();
const body = JSON.stringify({ id: '00000000-0000-4000-8000-000000000000', prediction: '<=50K', confidence: 0.9 });
app.use((ctx) => {
  ctx.req.resume();
  ctx.type = 'application/json';
  ctx.body = body;
});
const server = createServer(app.callback());
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  const addr = server.address() as { port: number };
  console.error(JSON.stringify({ msg: 'koa constant listening', url: `http://127.0.0.1:${addr.port}` }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

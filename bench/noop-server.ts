/** Baseline: the same Fastify, answering POST with nothing to do. Prints its port when listening. */
import Fastify from 'fastify';

const app = Fastify();
app.post('/noop', async (_request, reply) => reply.code(202).send({ ok: true }));
app.listen({ port: 0, host: '127.0.0.1' }).then((address) => console.log(`listening ${address}`));

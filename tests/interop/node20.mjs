// Node 20 lacks Promise.withResolvers, which current js-libp2p uses. Imported first by each
// interop script, before it loads js-libp2p.
if (!Promise.withResolvers) {
  Promise.withResolvers = function () {
    let resolve, reject;
    const promise = new this((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}

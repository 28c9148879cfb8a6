// A buffer transform that returns its input: every byte read and written, no work in between.
export default { name: 'identity', buffer: (content) => content };

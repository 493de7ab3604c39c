import '../../cli/runtime/polyfills';

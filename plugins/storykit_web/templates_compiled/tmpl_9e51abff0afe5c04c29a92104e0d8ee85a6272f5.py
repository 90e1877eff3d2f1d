from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'web/_opengraph.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_site = resolve('site')
    l_0_page_title = resolve('page_title')
    l_0_description = resolve('description')
    l_0_og_type = resolve('og_type')
    l_0_canonical = resolve('canonical')
    l_0_og_image = resolve('og_image')
    l_0_base_url = resolve('base_url')
    try:
        t_1 = environment.filters['replace']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'replace' found.")
    pass
    yield '<meta property="og:site_name" content="'
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))
    yield '">\n<meta property="og:title" content="'
    yield escape(((undefined(name='page_title') if l_0_page_title is missing else l_0_page_title) or environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title')))
    yield '">\n<meta property="og:description" content="'
    yield escape(((undefined(name='description') if l_0_description is missing else l_0_description) or environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'description')))
    yield '">\n<meta property="og:type" content="'
    yield escape(((undefined(name='og_type') if l_0_og_type is missing else l_0_og_type) or 'website'))
    yield '">\n<meta property="og:locale" content="'
    yield escape(t_1(context.eval_ctx, (environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'language') or 'en-GB'), '-', '_'))
    yield '">\n'
    if (undefined(name='canonical') if l_0_canonical is missing else l_0_canonical):
        pass
        yield '<meta property="og:url" content="'
        yield escape((undefined(name='canonical') if l_0_canonical is missing else l_0_canonical))
        yield '">\n'
    if ((undefined(name='og_image') if l_0_og_image is missing else l_0_og_image) and (undefined(name='base_url') if l_0_base_url is missing else l_0_base_url)):
        pass
        yield '<meta property="og:image" content="'
        yield escape(environment.call(context, environment.getattr((undefined(name='base_url') if l_0_base_url is missing else l_0_base_url), 'rstrip'), '/'))
        yield '/'
        yield escape(environment.getattr((undefined(name='og_image') if l_0_og_image is missing else l_0_og_image), 'src'))
        yield '">\n<meta property="og:image:alt" content="'
        yield escape(environment.getattr((undefined(name='og_image') if l_0_og_image is missing else l_0_og_image), 'alt'))
        yield '">\n<meta property="og:image:width" content="'
        yield escape(environment.getattr((undefined(name='og_image') if l_0_og_image is missing else l_0_og_image), 'width'))
        yield '">\n<meta property="og:image:height" content="'
        yield escape(environment.getattr((undefined(name='og_image') if l_0_og_image is missing else l_0_og_image), 'height'))
        yield '">\n'
    yield '<meta name="twitter:card" content="'
    yield escape(('summary_large_image' if ((undefined(name='og_image') if l_0_og_image is missing else l_0_og_image) and (undefined(name='base_url') if l_0_base_url is missing else l_0_base_url)) else 'summary'))
    yield '">\n'

blocks = {}
debug_info = '2=25&3=27&4=29&5=31&6=33&7=35&9=40&10=47&11=49&12=51&14=54'